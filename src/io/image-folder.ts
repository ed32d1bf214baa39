/**
 * Example images for few-shot adaptation: a folder (not recursive) or a list of files or in-memory
 * buffers. Whether something is an image is decided by decoding it, never by its extension, so a
 * `.jpg` that is really a text file, or a truncated JPEG, is skipped with a reason instead of
 * stopping a run; only an empty result is an error.
 *
 * Besides the bytes, the set has an identity for domain-file metadata: the file names and a sha256
 * over the sorted per-image sha256s, so the same photos give the same digest in any order or folder.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';

export type ImageInput = string | Buffer;

export interface ImageSetItem {
  /** The file's base name, or `buffer-<i>` for an in-memory image. */
  name: string;
  bytes: Buffer;
}

export interface SkippedImage {
  name: string;
  reason: string;
}

export interface ImageSet {
  images: ImageSetItem[];
  skipped: SkippedImage[];
  /** sha256 (hex) over the sorted sha256s of the images' bytes. */
  digest: string;
}

/** The user's image inputs are unusable: a missing path, nothing that decodes, or (readImageFile) one file that does not. */
export class ImageSetError extends Error {}

/**
 * Reads and checks example images. `inputs` are folders (their files, not subfolders; dot files such
 * as `.DS_Store` are not candidates), image files, or buffers. Folder contents are taken in name order.
 * Throws ImageSetError for a missing path, or (naming what was looked at and what was skipped) when no input decodes.
 */
export async function readImageSet(inputs: readonly ImageInput[]): Promise<ImageSet> {
  const candidates: Array<{ name: string; read: () => Promise<Buffer> }> = [];
  const folders: string[] = [];
  for (const [i, input] of inputs.entries()) {
    if (typeof input !== 'string') {
      candidates.push({ name: `buffer-${i}`, read: async () => input });
      continue;
    }
    const info = await stat(input).catch((err: NodeJS.ErrnoException) => {
      throw new ImageSetError(`${input}: ${err.code === 'ENOENT' ? 'no such file or folder' : err.message}`);
    });
    if (!info.isDirectory()) {
      candidates.push({ name: basename(input), read: () => readFile(input) });
      continue;
    }
    folders.push(input);
    const entries = await readdir(input, { withFileTypes: true });
    const files = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
    for (const file of files) candidates.push({ name: file, read: () => readFile(join(input, file)) });
  }

  const images: ImageSetItem[] = [];
  const skipped: SkippedImage[] = [];
  for (const { name, read } of candidates) {
    const bytes = await read();
    const problem = await decodeProblem(bytes);
    if (problem) skipped.push({ name, reason: problem });
    else images.push({ name, bytes });
  }
  if (images.length === 0) {
    const where = folders.length > 0 ? `in ${folders.join(', ')}` : `among ${inputs.length} input${inputs.length === 1 ? '' : 's'}`;
    const why = skipped.length === 0 ? ' (no files)' : `; skipped ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}`;
    throw new ImageSetError(`no usable image ${where}${why}. Give JPEG, PNG or WebP files.`);
  }
  return { images, skipped, digest: imageSetDigest(images.map((im) => im.bytes)) };
}

/**
 * One image file, checked exactly as readImageSet checks each candidate, for callers that need every file
 * they were given (`embed --image`) rather than the usable ones. Throws ImageSetError naming the file.
 */
export async function readImageFile(path: string): Promise<Buffer> {
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    const reason = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'a folder, not an image file' : err.message;
    throw new ImageSetError(`${path}: ${reason}`);
  });
  const problem = await decodeProblem(bytes);
  if (problem) throw new ImageSetError(`${path}: not a usable image (${problem})`);
  return bytes;
}

/** The set's identity: independent of names and order, changed by any byte of any image. */
export function imageSetDigest(images: readonly Uint8Array[]): string {
  const each = images.map((bytes) => createHash('sha256').update(bytes).digest('hex')).sort();
  return createHash('sha256').update(each.join('\n')).digest('hex');
}

/** Formats by their first bytes, to say what a file that does not decode was meant to be. */
const SIGNATURES: ReadonlyArray<[string, (b: Buffer) => boolean]> = [
  ['JPEG', (b) => b[0] === 0xff && b[1] === 0xd8],
  ['PNG', (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))],
  ['WebP', (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP'],
  ['GIF', (b) => b.toString('latin1', 0, 4) === 'GIF8'],
];

/**
 * Why these bytes are not a usable image, in plain words, or undefined. A full decode, not just the
 * header: a truncated JPEG has a readable header and fails only when its pixels are read. libvips'
 * own messages ("VipsJpeg: premature end of JPEG file …") are not shown: they name its internals.
 */
async function decodeProblem(bytes: Buffer): Promise<string | undefined> {
  if (bytes.length === 0) return 'the file is empty';
  try {
    await sharp(bytes).raw().toBuffer();
    return undefined;
  } catch {
    const format = SIGNATURES.find(([, matches]) => matches(bytes))?.[0];
    return format ? `the ${format} data is damaged or cut short` : 'not a JPEG, PNG or WebP image';
  }
}
