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
