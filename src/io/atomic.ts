import { closeSync, fsyncSync, openSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { processRuns } from '../core/process.js';

/**
 * Writing files so that readers see either the old contents or the complete new ones, never a torn file:
 * the data goes to a temporary file `.NAME.PID.RAND.tmp` in the same directory (rename is only atomic
 * within one file system), is flushed to disk, then renamed over the target, and the directory is flushed
 * so the rename itself survives a power loss. The temporary file is removed if anything fails.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temp = temporaryPath(path);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    syncDirectory(dirname(path));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Where an atomic write of `path` puts its data first (for writers that stream, like io/npz.ts). */
export function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Flushes a directory, so that a rename in it is on disk. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes the temporary files that writes of `path` left when their process died; returns their names. */
export function removeStaleTemporaries(path: string): string[] {
  const prefix = `.${basename(path)}.`;
  const removed: string[] = [];
  for (const name of readdirSync(dirname(path))) {
    const pid = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid !== undefined && !processRuns(Number(pid))) {
      rmSync(join(dirname(path), name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}
