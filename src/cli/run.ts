import type { Command } from 'commander';

/** A user-facing failure: printed as one line without a stack trace, exit code 1 (or `code`). */
export class UsageError extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses argv and turns thrown errors into a one-line message and a non-zero exit code. */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as Error;
    const showStack = process.env.GANVEC_DEBUG === '1' && !(e instanceof UsageError);
    process.stderr.write(`ganvec: ${showStack ? e.stack : e.message}\n`);
    process.exitCode = e instanceof UsageError ? e.code : 1;
  }
}
