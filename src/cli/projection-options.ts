// The projection flags, progress line, --save-video and inversion (optimisation or encoder) that `project` and `stylize` share.
import type { Command } from 'commander';
import {
  e4eInput, formatDuration, loadE4e, loadLpips, project, PROJECT_DEFAULTS, renderProjectionVideo,
  type Device, type Generator, type LpipsWeights, type Projection, type ProjectStep, type RgbImage, type Tensor,
} from '../index.js';
import { deviceOption, integerIn, threadsOption } from './options.js';
import type { downloadProgress } from './progress.js';
import { UsageError } from './run.js';
import { frameProgress } from './video-output.js';

export interface ProjectionFlags {
  /** An e4e encoder (registry name or file) instead of the optimisation. */
  encoder?: string;
  steps: number;
  seed: number;
  lpipsTrunk: string;
  lpipsLin: string;
  threads?: number;
  device: Device;
  saveVideo?: string;
}

/** projector.py's default seed. */
const DEFAULT_SEED = 303;

export function addProjectionOptions(command: Command): Command {
  return command
    .option('--encoder <name|file>', 'invert in one forward pass of an inversion encoder instead of optimising: e4e (encoder4editing\'s FFHQ encoder, for the FFHQ 1024 generator) or an e4e checkpoint file; --steps, --seed and the LPIPS flags are then unused')
    .option('--steps <n>', 'projection steps, as projector.py', integerIn({ min: 1 }), PROJECT_DEFAULTS.steps)
    .option('--seed <n>', 'seed of the noise maps\' start and of the W perturbation', integerIn({ min: 0, max: 2 ** 32 - 1 }), DEFAULT_SEED)
    .option('--lpips-trunk <name|file>', 'VGG16 trunk of the LPIPS distance (torchvision state dict)', 'vgg16-imagenet')
    .option('--lpips-lin <name|file>', 'LPIPS v0.1 lin layers (PerceptualSimilarity\'s weights/v0.1/vgg.pth)', 'lpips-vgg-v0.1')
    .option('--save-video <file>', 'a video of the optimisation as projector.py\'s proj.mp4: the target beside each step\'s W, 10 fps (.mp4, .gif or .webp; needs ffmpeg)')
    .addOption(threadsOption())
    .addOption(deviceOption());
}

/**
 * projector.py's optimisation with the progress line, and with --save-video its video: each step's W drawn
 * with the final noise maps once the optimisation has ended (one synthesis per step on top of it).
 */
export async function runProjection(G: Generator, target: Tensor, lpips: LpipsWeights, flags: ProjectionFlags, label: string): Promise<Projection> {
  const progress = projectionProgress(label);
  const stepWs: Float32Array[] = [];
  const result = await project(G, target, lpips, {
    steps: flags.steps,
    seed: flags.seed,
    onStep(s) {
      progress(s);
      if (flags.saveVideo) stepWs.push(s.w);
    },
    session: { threads: flags.threads, device: flags.device },
  });
  if (flags.saveVideo) {
    const { width, height, frames } = await renderProjectionVideo(G, target, stepWs, result.noise, flags.saveVideo, { onProgress: frameProgress('projection video') });
    process.stderr.write(`wrote the projection video ${flags.saveVideo}: ${frames} frames of ${width}×${height} (target | each step's W) at 10 fps\n`);
  }
  return result;
}

/** A redrawn line on a terminal, a line every 100 steps in logs. */
function projectionProgress(label: string): (s: ProjectStep) => void {
  const started = performance.now();
  return (s) => {
    const eta = formatDuration(((performance.now() - started) / 1000 / s.step) * (s.steps - s.step));
    const line = `${label}, step ${s.step}/${s.steps}  dist ${s.dist.toFixed(4)}  loss ${s.loss.toFixed(4)}  ETA ${eta}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K${s.step === s.steps ? '\n' : ''}`);
    else if (s.step % 100 === 0 || s.step === s.steps) process.stderr.write(`${line}\n`);
  };
}

export interface Inversion {
  /** W+ [1, nLatent, styleDim]. */
  ws: Tensor;
  /** How it was found, for the closing line: "one e4e forward pass", "final LPIPS 0.1234". */
  how: string;
}

/**
 * W+ for an image: one forward pass of the --encoder on `photo` (which it resizes as its training did), or
 * projector.py's optimisation toward `target` ([1, 3, size, size] in [-1, 1]).
 */
export async function invert(
  G: Generator, photo: RgbImage, target: Tensor, flags: ProjectionFlags & { model: string }, label: string, downloads: ReturnType<typeof downloadProgress>,
): Promise<Inversion> {
  const session = { threads: flags.threads, device: flags.device };
  if (flags.encoder) {
    if (flags.saveVideo) throw new UsageError('--save-video: records the optimisation\'s steps, and --encoder makes none; drop one of them');
    const generator = { name: flags.model, size: G.size, nLatent: G.nLatent, styleDim: G.styleDim };
    const encoder = await loadE4e(flags.encoder, { ...session, generator, downloads });
    downloads.end();
    try {
      return { ws: await encoder.encode(e4eInput(photo)), how: 'one e4e forward pass' };
    } finally {
      await encoder.release();
    }
  }
  const lpips = await loadLpips({ trunk: flags.lpipsTrunk, lin: flags.lpipsLin, downloads });
  downloads.end();
  const result = await runProjection(G, target, lpips, flags, label);
  return { ws: result.ws, how: `final LPIPS ${result.dist.toFixed(4)}` };
}
