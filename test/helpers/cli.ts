/** Runs the `ganvec` CLI from source, as a user would, and collects its output. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Called with each stdout chunk and the child, e.g. to send it a signal mid-run. */
  onStdout?: (chunk: string, child: import('node:child_process').ChildProcess) => void;
  /** Kill the child (SIGKILL) after this many milliseconds: a guard for inputs that used to hang. */
  timeout?: number;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `${REPO}src/cli/main.ts`, ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, GANVEC_OFFLINE: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeout,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      options.onStdout?.(c, child);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** runCli for a run that must succeed: fails the test with the command and its stderr otherwise. */
export async function runCliOk(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const r = await runCli(args, options);
  assert.equal(r.code, 0, `ganvec ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
}
