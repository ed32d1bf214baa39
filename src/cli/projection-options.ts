// The projection flags and progress line that `project` and `stylize` share.
import type { Command } from 'commander';
import { PROJECT_DEFAULTS, formatDuration, type Device, type ProjectStep } from '../index.js';
import { deviceOption, integerIn, threadsOption } from './options.js';


export interface ProjectionFlags {
  steps: number;
  seed: number;
  lpipsTrunk: string;
  lpipsLin: string;
  threads?: number;
  device: Device;
}

/** projector.py's default seed. */
const DEFAULT_SEED = 303;

export function addProjectionOptions(command: Command): Command {
  return command
    .option('--steps <n>', 'projection steps, as projector.py', integerIn({ min: 1 }), PROJECT_DEFAULTS.steps)
    .option('--seed <n>', 'seed of the noise maps\' start and of the W perturbation', integerIn({ min: 0, max: 2 ** 32 - 1 }), DEFAULT_SEED)
    .option('--lpips-trunk <name|file>', 'VGG16 trunk of the LPIPS distance (torchvision state dict)', 'vgg16-imagenet')
    .option('--lpips-lin <name|file>', 'LPIPS v0.1 lin layers (PerceptualSimilarity\'s weights/v0.1/vgg.pth)', 'lpips-vgg-v0.1')
    .addOption(threadsOption())
    .addOption(deviceOption());
}

/** A redrawn line on a terminal, a line every 100 steps in logs. */
export function projectionProgress(label: string): (s: ProjectStep) => void {
  const started = performance.now();
  return (s) => {
    const eta = formatDuration(((performance.now() - started) / 1000 / s.step) * (s.steps - s.step));
    const line = `${label}, step ${s.step}/${s.steps}  dist ${s.dist.toFixed(4)}  loss ${s.loss.toFixed(4)}  ETA ${eta}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K${s.step === s.steps ? '\n' : ''}`);
    else if (s.step % 100 === 0 || s.step === s.steps) process.stderr.write(`${line}\n`);
  };
}
