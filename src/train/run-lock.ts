/**
 * One training run per domain file: `<out>.lock` holds the owner's pid, so a second `adapt` on the same
 * --out is refused instead of interleaving its saves with the first's. A lock whose process is gone (a
 * killed run) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { processRuns } from '../core/process.js';

export class RunLockedError extends Error {}

export interface RunLock {
  readonly path: string;
  release(): void;
}

/** `busy` words the refusal when a live process holds the lock (default: a training run's). */
export function acquireRunLock(
  domainPath: string,
  busy: (owner: number, lockPath: string) => string = (owner, lockPath) =>
    `${domainPath} is being trained by process ${owner} (see ${lockPath}); wait for it to finish, stop it, or choose another --out`,
): RunLock & { tookOverFrom?: number } {
  const path = `${domainPath}.lock`;
  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify({ pid: process.pid, started: new Date().toISOString() })}\n`, { flag: 'wx' });
      const release = () => rmSync(path, { force: true });
      // Also when the process ends by process.exit (a second Ctrl-C) or an uncaught error.
      process.once('exit', release);
      return { path, tookOverFrom, release: () => (process.off('exit', release), release()) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = lockOwner(path);
    if (owner !== undefined && processRuns(owner)) {
      throw new RunLockedError(busy(owner, path));
    }
    // Dead owner, or a lock file without a pid: take it over, once.
    tookOverFrom = owner;
    rmSync(path, { force: true });
  }
  throw new RunLockedError(`${domainPath}: another process took the lock ${path} at the same moment; try again`);
}

function lockOwner(path: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }).pid;
    return Number.isSafeInteger(pid) && (pid as number) > 0 ? (pid as number) : undefined;
  } catch {
    return undefined;
  }
}
