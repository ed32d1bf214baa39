/**
 * The one error type for unreadable model files. Its message always starts with the file it is about,
 * so a user with several checkpoints knows which one is broken and what is wrong with it.
 */
export class CheckpointError extends Error {
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'CheckpointError';
    this.file = file;
  }
}
