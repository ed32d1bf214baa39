/**
 * The video of a projection, as NVIDIA's projector.py writes proj.mp4: one frame per optimisation step,
 * the target on the left and the step's W drawn on the right, at 10 fps, H.264 at 16 Mbit/s (imageio's
 * writer with projector.py's bitrate). As there, each step's W is drawn after the optimisation has ended,
 * without the step's W perturbation and with the final optimised noise maps (projector.py optimises the
 * generator's noise buffers in place), so the frames need one synthesis each beyond the optimisation:
 * the image a step computes for its loss has the perturbation and that step's noise maps instead.
 */
import type { Tensor } from '../core/tensor.js';
import type { Generator } from '../generators/generator.js';
import { imageToRgb8 } from '../io/image.js';
import { writeVideo, type VideoFormat } from './encoder.js';

export interface ProjectionVideoOptions {
  /** Default 10, as projector.py. */
  fps?: number;
  format?: VideoFormat;
  /** After each frame: frames done, frames in all. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Writes `path` (.mp4, .gif or .webp): frame i is `target` [1, 3, S, S] beside `stepWs[i]` (W [D] after
 * step i, ProjectStep.w) drawn with `noise` (Projection.noise). Returns the frame size.
 */
export async function renderProjectionVideo(
  G: Generator, target: Tensor, stepWs: readonly Float32Array[], noise: Readonly<Record<string, Tensor>>, path: string, o: ProjectionVideoOptions = {},
): Promise<{ width: number; height: number; frames: number }> {
  const size = G.size;
  const width = 2 * size;
  const height = size;
  const targetRgb = imageToRgb8(target, 0);
  const row = size * 3;
  await writeVideo(path, { width, height, fps: o.fps ?? 10, format: o.format, bitrate: '16M' }, stepWs.length, async (i) => {
    const synth = imageToRgb8(await G.synthesize({ w: { data: stepWs[i]!, shape: [1, G.styleDim] }, noiseMaps: noise }), 0);
    const frame = new Uint8Array(width * height * 3);
    for (let y = 0; y < size; y++) {
      frame.set(targetRgb.subarray(y * row, (y + 1) * row), 2 * y * row);
      frame.set(synth.subarray(y * row, (y + 1) * row), (2 * y + 1) * row);
    }
    return frame;
  }, o.onProgress);
  return { width, height, frames: stepWs.length };
}
