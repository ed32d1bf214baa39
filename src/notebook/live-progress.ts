/**
 * A training run's progress for a notebook: one line that updates in place (tslab's `newDisplay()`, or
 * anything with a `text` method), and the run's messages below it as plain output.
 */
import type { StepReport } from '../train/loop.js';
import { StepRate, stepLine } from '../train/progress-text.js';

/** What tslab.newDisplay() returns, as far as progress needs it. */
export interface LiveDisplay {
  text(text: string): void;
}

/** `onStep` and `onMessage` for `adapt()` that draw into `display`. */
export function liveProgress(display: LiveDisplay, log: (text: string) => void = console.log): {
  onStep(report: StepReport): void;
  onMessage(text: string): void;
} {
  const rate = new StepRate();
  return {
    onStep(r) {
      rate.add(r.seconds);
      display.text(stepLine(r, rate));
    },
    onMessage: log,
  };
}
