import { printable } from './printable.js';

/**
 * The one error type for unreadable model files. Its message always starts with the file it is about,
 * so a user with several checkpoints knows which one is broken and what is wrong with it. Messages quote
 * the file's own text (names, metadata), so control characters in them are escaped: one printable line.
 */
export class CheckpointError extends Error {
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(printable(`${file}: ${problem}`), options);
    this.name = 'CheckpointError';
    this.file = file;
  }
}

/**
 * An error that is several lines on purpose: the problem, then what to do about it. The CLI prints each
 * line escaped (file text stays on its line) instead of the one escaped line other errors get.
 */
export class MultiLineError extends Error {
  constructor(readonly lines: readonly string[], options?: { cause?: unknown }) {
    super(lines.join('\n'), options);
    this.name = 'MultiLineError';
  }
}
