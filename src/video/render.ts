/**
 * Renders a video plan (walk.ts) frame by frame into a video writer (encoder.ts): each frame's cells are
 * one synthesis call (in the generator's batches), tiled as gen_video.py's layout_grid tiles them and
 * converted to 8 bits as NVIDIA's scripts do. Only the frame being made is in memory.
 */
import type { Generator } from '../generators/generator.js';
import { imageToRgb8 } from '../io/image.js';
import { writeVideo, type VideoFormat } from './encoder.js';
import type { VideoPlan } from './walk.js';

export interface RenderVideoOptions {
  fps?: number;
  format?: VideoFormat;
  bitrate?: string;
  /** After each frame: frames done, frames in all. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Writes the plan's frames to `path` (.mp4, .gif or .webp); returns the frame size. */
export async function renderVideo(G: Generator, plan: VideoPlan, path: string, o: RenderVideoOptions = {}): Promise<{ width: number; height: number; frames: number }> {
  const size = G.size;
  const width = plan.cols * size;
  const height = plan.rows * size;
  await writeVideo(path, { width, height, fps: o.fps ?? 60, format: o.format, bitrate: o.bitrate }, plan.frames, async (f) => {
    o.signal?.throwIfAborted();
    const frame = new Uint8Array(width * height * 3);
    const { ws, domain } = plan.frame(f);
    const images = await G.synthesize({ w: ws, domain });
    for (let cell = 0; cell < plan.cols * plan.rows; cell++) {
      const rgb = imageToRgb8(images, cell);
      const x0 = (cell % plan.cols) * size;
      const y0 = Math.floor(cell / plan.cols) * size;
      for (let y = 0; y < size; y++) frame.set(rgb.subarray(y * size * 3, (y + 1) * size * 3), ((y0 + y) * width + x0) * 3);
    }
    return frame;
  }, o.onProgress);
  return { width, height, frames: plan.frames };
}
