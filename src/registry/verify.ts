/**
 * Checking a file where a download belongs: its size and sha256 (published, or recorded beside it at the
 * first download), hashed once per process and per version of the file.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

/** The file beside a download where the hash of its first download is kept when none is published. */
export function recordedHashPath(dest: string): string {
  return `${dest}.sha256`;
}

/** The hash recorded at the first download (`sha256sum` format), or null. */
export async function readRecordedSha256(dest: string): Promise<string | null> {
  try {
    const match = /^([0-9a-f]{64})\b/.exec(await readFile(recordedHashPath(dest), 'utf8'));
    return match ? match[1]! : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** A file where a download belongs, checked: an empty file counts as missing (an interrupted copy, not a download). */
export type FileCheck =
  | { state: 'ok'; sha256: string; bytes: number }
  | { state: 'missing' }
  | { state: 'size'; bytes: number }
  | { state: 'hash'; sha256: string };

// Hashes this process computed, with the size and mtime the file had then. A size that matches proves
// little (a file overwritten in place, a bad copy); hashing a checkpoint takes a second or more, so it is
// done once per process and per version of the file.
const hashedInThisProcess = new Map<string, { bytes: number; mtimeMs: number; sha256: string }>();

/** Checks the file at `path` against the expected size and sha256 (either may be null: not known). */
export async function checkFile(path: string, sha256: string | null, bytes: number | null): Promise<FileCheck> {
  const stats = await statOrUndefined(path);
  if (!stats?.isFile() || stats.size === 0) return { state: 'missing' };
  if (bytes !== null && stats.size !== bytes) return { state: 'size', bytes: stats.size };
  const key = resolve(path);
  let known = hashedInThisProcess.get(key);
  if (known?.bytes !== stats.size || known.mtimeMs !== stats.mtimeMs) {
    known = { bytes: stats.size, mtimeMs: stats.mtimeMs, sha256: (await hashFile(path)).sha256 };
    hashedInThisProcess.set(key, known);
  }
  if (sha256 !== null && known.sha256 !== sha256) return { state: 'hash', sha256: known.sha256 };
  return { state: 'ok', sha256: known.sha256, bytes: known.bytes };
}

/** Records the hash of a file this process has just written, so checkFile need not read it again. */
export async function rememberHash(path: string, sha256: string): Promise<void> {
  const stats = await stat(path);
  hashedInThisProcess.set(resolve(path), { bytes: stats.size, mtimeMs: stats.mtimeMs, sha256 });
}

/** The file's stats, or undefined when nothing is at `path`. */
export async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

export async function fileSize(path: string): Promise<number> {
  return (await statOrUndefined(path))?.size ?? 0;
}
