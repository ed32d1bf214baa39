import type { Command, OutputConfiguration } from 'commander';
import { MultiLineError, printable, setWarningHandler } from '../index.js';

/** A user-facing failure: printed as one line without a stack trace, exit code 1 (or `code`). */
export class UsageError extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * commander's own errors in the form of ganvec's: one line, `ganvec: --flag: what is wrong, got VALUE`
 * for a bad option value (commander says `error: option '--batch <n>' argument '0' is invalid. …`).
 */
export function commanderErrorLine(text: string): string {
  const line = text.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  const invalid = /^option '(--[\w-]+)[^']*' argument '(.*)' is invalid\. (.*?)\.?$/.exec(line);
  if (!invalid) return `ganvec: ${line}\n`;
  const [, flag, value, reason] = invalid as unknown as [string, string, string, string];
  const choices = /^Allowed choices are (.*)$/.exec(reason);
  return `ganvec: ${flag}: ${choices ? `expected one of ${choices[1]}, got "${value}"` : reason}\n`;
}

/** For `program.configureOutput()`, before the commands are added (they inherit it). */
export const OUTPUT_CONFIGURATION: OutputConfiguration = {
  outputError: (text, write) => write(commanderErrorLine(text)),
};

/** A warning as the CLI prints it: one plain line on stderr. */
export function warnLine(message: string): void {
  process.stderr.write(`ganvec: warning: ${printable(message)}\n`);
}

/** Parses argv and turns thrown errors into a one-line message and a non-zero exit code. */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  // `ganvec models list | head`: the reader has gone, so the output is not wanted; stop quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  setWarningHandler(warnLine);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as Error;
    const showStack = process.env.GANVEC_DEBUG === '1' && !(e instanceof UsageError);
    // Messages quote text from files (names, metadata): escape control characters, keep each line one line.
    const lines = showStack ? (e.stack ?? e.message).split('\n') : e instanceof MultiLineError ? e.lines : [e.message];
    const text = lines.map(printable).join('\n');
    process.stderr.write(`ganvec: ${text}\n`);
    process.exitCode = e instanceof UsageError ? e.code : 1;
  }
}
