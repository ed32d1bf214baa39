import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CheckpointError } from './errors.js';

/**
 * Random access to bytes, from an open file or from memory. Readers of large files (zip archives,
 * safetensors) ask only for the ranges they need instead of reading a multi-gigabyte file whole.
 * Reads near the end return fewer bytes than asked for; callers check lengths to detect truncation.
 */
export interface ByteSource {
  readonly size: number;
  read(position: number, length: number): Uint8Array;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (position, length) => bytes.subarray(position, position + length) };
}

/** Opens a file as a ByteSource for the duration of `use`. */
export function withFileSource<T>(path: string, use: (source: ByteSource) => T): T {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    return use({
      size,
      read(position, length) {
        const out = new Uint8Array(Math.max(0, Math.min(length, size - position)));
        let done = 0;
        while (done < out.length) {
          const n = readSync(fd, out, done, out.length - done, position + done);
          if (n === 0) break;
          done += n;
        }
        return out.subarray(0, done);
      },
    });
  } finally {
    closeSync(fd);
  }
}


/**
 * Reads a whole file for formats that must be parsed in one piece (pickles, .npy). The result is a plain
 * Uint8Array view of the file's bytes, not a Node Buffer, so `slice` copies as everywhere else.
 */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new CheckpointError(path, 'file is larger than 2 GiB, the most Node can read whole; this format has to be read whole', { cause: err });
    }
    throw err;
  }
}
