import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that readers see either the old contents or the complete new ones, never a torn file:
 * the data goes to a temporary file `.NAME.PID.RAND.tmp` in the same directory (rename is only atomic
 * within one file system), is flushed to disk, then renamed over the target, and the directory is flushed
 * so the rename itself survives a power loss. The temporary file is removed if anything fails.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
