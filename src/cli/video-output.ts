// What `video` and the projection's --save-video share: the output checked before any work, and a progress line per frame.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { findFfmpeg, videoFormatOf, VIDEO_FORMATS } from '../index.js';
import { UsageError } from './run.js';

/** A known extension, an ffmpeg to run and a writable directory, or a one-line error naming the flag. */
export async function checkVideoOutput(flag: string, path: string): Promise<void> {
  if (!videoFormatOf(path)) throw new UsageError(`${flag} ${path}: the format comes from the extension, one of .${VIDEO_FORMATS.join(', .')}`);
  try {
    findFfmpeg();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  try {
    await access(dirname(path), constants.W_OK);
  } catch (err) {
    throw new UsageError(`${flag} ${path}: cannot write into ${dirname(path)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** A redrawn line on a terminal, one per tenth of the frames in logs. */
export function frameProgress(label: string): (done: number, total: number) => void {
  const started = performance.now();
  const tty = process.stderr.isTTY;
  let shown = -1;
  return (done, total) => {
    const perFrame = (performance.now() - started) / 1000 / done;
    const line = `${label}: frame ${done}/${total}, ${perFrame.toFixed(2)} s/frame, ${Math.round(perFrame * (total - done))} s left`;
    if (tty) process.stderr.write(`\r${line}\x1b[K${done === total ? '\n' : ''}`);
    else if (Math.floor((10 * done) / total) !== shown) (shown = Math.floor((10 * done) / total)), process.stderr.write(`${line}\n`);
  };
}
