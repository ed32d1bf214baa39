/**
 * Video files through an ffmpeg binary found at run time (Debian's `ffmpeg` package; GANVEC_FFMPEG names
 * another): raw RGB frames are streamed to its stdin as they are made, so a video of any length needs one
 * frame of memory. MP4 is H.264 (yuv420p, as players expect), GIF uses a palette generated from the whole
 * video, WebP is animated lossy WebP; GIF and WebP loop forever. The file appears atomically: ffmpeg writes
 * a temporary file beside it, renamed over the target only when ffmpeg has succeeded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { delimiter, dirname, extname, join } from 'node:path';
import { syncDirectory, temporaryPath } from '../io/atomic.js';

export const VIDEO_FORMATS = ['mp4', 'gif', 'webp'] as const;
export type VideoFormat = (typeof VIDEO_FORMATS)[number];

export interface VideoOptions {
  width: number;
  height: number;
  fps: number;
  /** Default: from the file's extension. */
  format?: VideoFormat;
  /** H.264 bitrate, e.g. '12M' (gen_video.py's); default 12M. */
  bitrate?: string;
}

export interface VideoWriter {
  /**
   * One frame, interleaved RGB, rows top to bottom (width·height·3 bytes); the writer keeps a reference
   * until it is sent, so pass a fresh buffer each time. Resolves once ffmpeg can take more.
   */
  write(rgb: Uint8Array): Promise<void>;
  /** Finishes the file; rejects with ffmpeg's own last words if it failed. */
  close(): Promise<void>;
  /** Stops ffmpeg and removes the partial file. */
  abort(): Promise<void>;
}

export function videoFormatOf(path: string): VideoFormat | undefined {
  const ext = extname(path).slice(1).toLowerCase();
  return (VIDEO_FORMATS as readonly string[]).includes(ext) ? (ext as VideoFormat) : undefined;
}

/** The ffmpeg to run: GANVEC_FFMPEG, else `ffmpeg` on the PATH; a clear error when there is none. */
export function findFfmpeg(env: NodeJS.ProcessEnv = process.env): string {
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (env.GANVEC_FFMPEG) {
    if (!executable(env.GANVEC_FFMPEG)) throw new Error(`GANVEC_FFMPEG ${env.GANVEC_FFMPEG} is not an executable file`);
    return env.GANVEC_FFMPEG;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'ffmpeg'))) return join(dir, 'ffmpeg');
  }
  throw new Error('writing a video needs ffmpeg, which is not on the PATH: install it (Debian/Ubuntu: apt-get install ffmpeg) or set GANVEC_FFMPEG to its path');
}

function encoderArgs(format: VideoFormat, o: VideoOptions): string[] {
  switch (format) {
    case 'mp4': // yuv420p needs even sizes: pad by a black row/column when odd.
      return ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-b:v', o.bitrate ?? '12M', '-movflags', '+faststart', '-f', 'mp4'];
    case 'gif':
      return ['-filter_complex', '[0:v]split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a', '-loop', '0', '-f', 'gif'];
    case 'webp':
      return ['-c:v', 'libwebp_anim', '-lossless', '0', '-q:v', '90', '-loop', '0', '-f', 'webp'];
  }
}

export function openVideoWriter(path: string, o: VideoOptions): VideoWriter {
  const format = o.format ?? videoFormatOf(path);
  if (!format) throw new Error(`${path}: the video format is not known from its extension (use .${VIDEO_FORMATS.join(', .')})`);
  if (!(Number.isInteger(o.width) && Number.isInteger(o.height) && o.width > 0 && o.height > 0)) throw new RangeError(`bad frame size ${o.width}×${o.height}`);
  const ffmpeg = findFfmpeg();
  const temp = temporaryPath(path);
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${o.width}x${o.height}`, '-r', String(o.fps), '-i', 'pipe:0',
    ...encoderArgs(format, o), temp,
  ];
  const child: ChildProcess = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  // A write after ffmpeg died fails with EPIPE; the exit code and stderr say why, so they are reported instead.
  child.stdin!.on('error', () => {});
  const failure = async (code: number | null) => {
    await rm(temp, { force: true });
    const said = stderr.trim().split('\n').slice(-3).join('; ');
    return new Error(`ffmpeg (${ffmpeg}) failed writing ${path} with exit code ${code}${said ? `: ${said}` : ''}`);
  };
  const frameBytes = o.width * o.height * 3;
  return {
    async write(rgb) {
      if (rgb.length !== frameBytes) throw new RangeError(`a frame of ${o.width}×${o.height} RGB is ${frameBytes} bytes, got ${rgb.length}`);
      if (child.exitCode !== null) throw await failure(child.exitCode);
      if (!child.stdin!.write(rgb)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            child.stdin!.off('drain', done);
            child.off('close', done);
            resolve();
          };
          child.stdin!.on('drain', done);
          child.on('close', done);
        });
      }
    },
    async close() {
      child.stdin!.end();
      const code = await exited;
      if (code !== 0) throw await failure(code);
      await rename(temp, path);
      syncDirectory(dirname(path));
    },
    async abort() {
      child.kill('SIGKILL');
      await exited.catch(() => undefined);
      await rm(temp, { force: true });
    },
  };
}

/**
 * Writes the `frames` frames that `frame(i)` makes, one at a time (a fresh buffer each, see write), to
 * `path`; when making a frame or encoding fails, the partial file is removed.
 */
export async function writeVideo(
  path: string, o: VideoOptions, frames: number, frame: (index: number) => Promise<Uint8Array>, onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const writer = openVideoWriter(path, o);
  try {
    for (let i = 0; i < frames; i++) {
      await writer.write(await frame(i));
      onProgress?.(i + 1, frames);
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
