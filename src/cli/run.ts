import type { Command } from 'commander';
import { printable } from '../index.js';

/** A user-facing failure: printed as one line without a stack trace, exit code 1 (or `code`). */
export class UsageError extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses argv and turns thrown errors into a one-line message and a non-zero exit code. */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  // `ganvec models list | head`: the reader has gone, so the output is not wanted; stop quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as Error;
    const showStack = process.env.GANVEC_DEBUG === '1' && !(e instanceof UsageError);
    // Messages quote text from files (names, metadata): escape control characters, keep it one line.
    const text = showStack ? (e.stack ?? e.message).split('\n').map(printable).join('\n') : printable(e.message);
    process.stderr.write(`ganvec: ${text}\n`);
    process.exitCode = e instanceof UsageError ? e.code : 1;
  }
}
