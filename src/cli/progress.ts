/**
 * How the commands show long work: a training run as a one-line bar (step, loss, steps/s, ETA) redrawn
 * on a TTY, plain lines in logs, or one JSON object per step on stdout (`--json`); a download as a bar
 * (bytes, rate, ETA) on a TTY and nothing elsewhere, with its notices as lines.
 */
import type { DownloadProgress, DownloadSettings } from '../registry/index.js';
import { formatBytes } from '../registry/index.js';
import { StepRate, formatDuration, stepLine, type StepReport } from '../index.js';

export interface ProgressSink {
  step(report: StepReport): void;
  message(text: string): void;
  end(): void;
}

export function jsonProgress(out: NodeJS.WritableStream = process.stdout): ProgressSink {
  const rate = new StepRate();
  return {
    step(r) {
      rate.add(r.seconds);
      const stepsPerSecond = rate.stepsPerSecond;
      out.write(`${JSON.stringify({
        event: 'step', step: r.step, iterations: r.iterations, loss: r.loss, terms: r.terms,
        steps_per_second: stepsPerSecond, eta_seconds: (r.iterations - r.step) / stepsPerSecond,
      })}\n`);
    },
    message(text) {
      out.write(`${JSON.stringify({ event: 'message', message: text })}\n`);
    },
    end() {},
  };
}

export function barProgress(out: NodeJS.WriteStream = process.stderr): ProgressSink {
  const rate = new StepRate();
  let drawn = false;
  return {
    step(r) {
      rate.add(r.seconds);
      out.write(`\r${stepLine(r, rate)}\x1b[K`);
      drawn = true;
    },
    message(text) {
      if (drawn) out.write('\n');
      drawn = false;
      out.write(`${text}\n`);
    },
    end() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}

/** Plain lines every `every` steps, for logs that are not terminals. */
export function lineProgress(out: NodeJS.WritableStream = process.stderr, every = 10): ProgressSink {
  return {
    step(r) {
      if (r.step % every === 0 || r.step === r.iterations) out.write(`step ${r.step}/${r.iterations}  loss ${r.loss.toFixed(4)}\n`);
    },
    message(text) {
      out.write(`${text}\n`);
    },
    end() {},
  };
}

/**
 * Download progress for `loadGenerator`/`loadClip`/`fetchModel` (their DownloadSettings): a redrawn bar
 * on a terminal, ended when the file is complete, before any notice is printed, and by `end`.
 */
export function downloadProgress(out: NodeJS.WriteStream = process.stderr): Pick<DownloadSettings, 'onProgress' | 'log'> & { end(): void } {
  let drawn = false;
  const endLine = () => {
    if (drawn) out.write('\n');
    drawn = false;
  };
  return {
    onProgress(p: DownloadProgress) {
      if (!out.isTTY) return;
      out.write(`\r${downloadLine(p, out.columns ?? 80)}\x1b[K`);
      drawn = true;
      if (p.total !== null && p.received >= p.total) endLine();
    },
    log(line: string) {
      endLine();
      out.write(`${line}\n`);
    },
    end: endLine,
  };
}

/** label, bar, percentage, bytes, rate and ETA, cut to the terminal's width. */
export function downloadLine(p: DownloadProgress, width: number): string {
  const amount = p.total !== null ? `${formatBytes(p.received)} / ${formatBytes(p.total)}` : formatBytes(p.received);
  const rate = `${formatBytes(p.bytesPerSecond)}/s`;
  const eta = p.etaSeconds !== null ? `ETA ${formatDuration(p.etaSeconds)}` : '';
  const percent = p.total ? `${Math.floor((100 * p.received) / p.total)}%`.padStart(4) : '';
  const text = [p.label, percent, amount, rate, eta].filter(Boolean).join('  ');
  const barWidth = Math.min(30, width - text.length - 4);
  const bar = p.total && barWidth >= 10 ? `[${'#'.repeat(Math.round((barWidth * p.received) / p.total)).padEnd(barWidth, '.')}] ` : '';
  return (bar + text).slice(0, width - 1);
}
