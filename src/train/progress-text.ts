/**
 * Training progress as text, the same in a terminal (cli/progress.ts) and in a notebook
 * (notebook/live-progress.ts): a bar, the step, the loss, the rate and the time left.
 */
import type { StepReport } from './loop.js';

/** 75 s → `1m15s`, 4000 s → `1h06m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

/** Steps per second over the recent steps, so a slow first step (graph build) does not skew the ETA. */
export class StepRate {
  private readonly times: number[] = [];

  add(seconds: number): void {
    this.times.push(seconds);
  }

  get stepsPerSecond(): number {
    const recent = this.times.slice(-10);
    return recent.length / recent.reduce((a, b) => a + b, 0);
  }
}

/** `[=====     ] 12/300  loss 0.8123  1.4 s/step  ETA 6m43s` for a step just reported to `rate`. */
export function stepLine(r: StepReport, rate: StepRate, width = 24): string {
  const perSecond = rate.stepsPerSecond;
  const filled = Math.round((width * r.step) / r.iterations);
  const speed = perSecond >= 1 ? `${perSecond.toFixed(2)} steps/s` : `${(1 / perSecond).toFixed(1)} s/step`;
  return `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${r.step}/${r.iterations}  loss ${r.loss.toFixed(4)}  ` +
    `${speed}  ETA ${formatDuration((r.iterations - r.step) / perSecond)}`;
}
