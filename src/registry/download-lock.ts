/**
 * One downloader per destination, across processes: `<dest>.lock` holds the owner's pid, host and a token.
 * Waiters poll it; a lock whose process is gone (same host) or that was not refreshed for `staleLockMs`
 * (its holder touches it) is taken over.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRuns } from '../core/process.js';

export interface DownloadLockOptions {
  dest: string;
  label: string;
  lockPollMs: number;
  staleLockMs: number;
  log: (line: string) => void;
}

interface LockInfo {
  pid: number;
  host: string;
  token: string;
}

export async function acquireDownloadLock(o: DownloadLockOptions): Promise<{ release(): Promise<void> }> {
  const lockPath = `${o.dest}.lock`;
  const mine: LockInfo = { pid: process.pid, host: hostname(), token: randomUUID() };
  let announced = false;
  for (;;) {
    try {
      await writeFile(lockPath, JSON.stringify(mine), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(lockPath);
    if (!holder) continue; // released between our attempt and the read
    const staleBecause = whyStale(holder, o.staleLockMs);
    if (staleBecause) {
      o.log(`${o.label}: taking over an abandoned download (${staleBecause})`);
      const again = await readLock(lockPath);
      // Remove only the lock judged stale, not one a third process created meanwhile.
      if (again && again.info?.token === holder.info?.token) await rm(lockPath, { force: true });
      continue;
    }
    if (!announced) {
      o.log(`${o.label}: waiting for another download of the same file${holder.info ? ` (pid ${holder.info.pid})` : ''}`);
      announced = true;
    }
    await sleep(o.lockPollMs);
  }
  // The holder touches the lock so waiters can tell a slow download from a dead one on another host.
  const heartbeat = setInterval(() => {
    const now = new Date();
    // A failed touch means the lock was taken over; the download goes on and the rename is still atomic.
    utimes(lockPath, now, now).catch(() => undefined);
  }, Math.max(50, o.staleLockMs / 4));
  heartbeat.unref();
  return {
    async release() {
      clearInterval(heartbeat);
      const holder = await readLock(lockPath);
      if (holder?.info?.token === mine.token) await rm(lockPath, { force: true });
    },
  };
}

async function readLock(lockPath: string): Promise<{ info: LockInfo | undefined; ageMs: number } | undefined> {
  try {
    const [text, stats] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    let info: LockInfo | undefined;
    try {
      info = JSON.parse(text) as LockInfo;
    } catch {
      info = undefined; // being written right now: judged by its age alone
    }
    return { info, ageMs: Date.now() - stats.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function whyStale(holder: { info: LockInfo | undefined; ageMs: number }, staleLockMs: number): string | undefined {
  if (holder.info && holder.info.host === hostname() && !processRuns(holder.info.pid)) return `process ${holder.info.pid} is gone`;
  if (holder.ageMs > staleLockMs) return `its lock was not refreshed for ${Math.round(holder.ageMs / 1000)} s`;
  return undefined;
}
