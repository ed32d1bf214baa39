// `ganvec adapt`: train a domain vector for a generator toward a text prompt or a few example images, guided by CLIP.
// The run itself (directions, draws, saves, resume, signals) is the library's adapt(); this parses flags
// and renders its progress.
import { Option, type Command } from 'commander';
import { basename, dirname, resolve } from 'node:path';
import { access, constants, mkdir } from 'node:fs/promises';
import {
  adapt, DEFAULT_SETTINGS, defaultLossWeights, IMAGE_LOSSES, ImageSetError, loadClip, loadGenerator, lossNames,
  parameterisationNames, parseLossWeights, readImageSet, TEXT_LOSSES,
  type AdaptSettings, type Clip, type Device, type ImageSet, type LayerSelection,
} from '../index.js';
import { barProgress, downloadProgress, jsonProgress, lineProgress, type ProgressSink } from './progress.js';
import {
  clipOption, DEFAULT_CLIP_MODELS, deviceOption, integerIn, modelOption, numberIn, numberListIn, threadsOption,
} from './options.js';
import { MALLOC_REUSE_MARK, RERUN_WITHOUT_MALLOC_REUSE, installedJemalloc, runsOnGlibc } from './malloc-environment.js';
import { UsageError } from './run.js';

interface AdaptFlags {
  model: string;
  clip: string[];
  clipWeights?: number[];
  to?: string;
  images?: string[];
  source: string;
  iters: number;
  batch: number;
  lr: number;
  loss?: string;
  mixing: number;
  seed: number;
  out?: string;
  preview?: string;
  previewEvery: number;
  saveEvery: number;
  threads?: number;
  microBatch?: number;
  maxMemory?: number;
  device: Device;
  json?: boolean;
  resume?: boolean;
  replay?: string;
  record?: string;
  parameterisation: string;
  layers: string;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48) || 'domain';
}

/** Loss weights as `--loss` spells them. */
function lossSpec(weights: Record<string, number>): string {
  return Object.entries(weights).filter(([, w]) => w > 0).map(([name, w]) => `${name}=${w}`).join(',');
}

function parseSettings(flags: AdaptFlags): AdaptSettings {
  let losses;
  try {
    losses = parseLossWeights(flags.loss ?? lossSpec(flags.images ? IMAGE_LOSSES : TEXT_LOSSES), defaultLossWeights({ off: true }));
  } catch (err) {
    throw new UsageError(`--loss: ${(err as Error).message}`);
  }
  if (losses.indomain > 0 && flags.batch < 2) throw new UsageError(`--batch: must be at least 2 for the indomain loss, got ${flags.batch}`);
  return {
    iterations: flags.iters, batch: flags.batch, lr: flags.lr, betas: DEFAULT_SETTINGS.betas, mixing: flags.mixing, seed: flags.seed, losses,
  };
}

/** Fails before any training if the output cannot be written, rather than after an hour of it. */
async function checkWritable(out: string): Promise<void> {
  const dir = dirname(out);
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`cannot write the domain file to ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function registerAdapt(program: Command): void {
  program
    .command('adapt')
    .description('Train a domain vector that moves a generator toward a text prompt or a few example images (CLIP-guided, StyleGAN-NADA direction loss).')
    .addOption(modelOption())
    .option('--to <text>', 'the target domain, e.g. "pixar" or "a sketch"')
    .option('--images <paths...>', 'instead of --to: example images, a folder (not recursive) or image files (JPEG, PNG, WebP)')
    .option('--source <text>', 'what the generator makes now', 'photo')
    .addOption(clipOption(DEFAULT_CLIP_MODELS))
    .addOption(new Option('--clip-weights <weights>', 'weight of each CLIP model\'s losses, comma-separated').argParser(numberListIn({ min: 0 })).default(undefined, '1 each'))
    .option('--iters <n>', 'training steps', integerIn({ min: 1 }), DEFAULT_SETTINGS.iterations)
    .option('--batch <n>', 'latents per step', integerIn({ min: 1 }), DEFAULT_SETTINGS.batch)
    .option('--lr <x>', 'Adam learning rate', numberIn({ min: 0, exclusiveMin: true }), DEFAULT_SETTINGS.lr)
    .addOption(new Option('--loss <spec>', `loss weights, ${lossNames().map((n) => `${n}=w`).join(',')}`)
      .default(undefined, `${lossSpec(TEXT_LOSSES)}; with --images ${lossSpec(IMAGE_LOSSES)}`))
    .option('--mixing <p>', 'style-mixing probability', numberIn({ min: 0, max: 1 }), DEFAULT_SETTINGS.mixing)
    .option('--seed <n>', 'seed of the training latents and noise', integerIn({ min: 0, max: 2 ** 32 - 1 }), DEFAULT_SETTINGS.seed)
    .addOption(new Option('--out <file>', 'domain file to write').default(undefined, '<target>.dv.safetensors'))
    .option('--preview <dir>', 'write labelled preview grids here (top row original, bottom row adapted, on seeds 0-3)')
    .option('--preview-every <n>', 'steps between previews', integerIn({ min: 1 }), 50)
    .option('--save-every <n>', 'steps between saves of the domain file and the run state beside it', integerIn({ min: 1 }), 25)
    .addOption(threadsOption())
    .addOption(new Option('--micro-batch <n>', 'samples per graph run, a divisor of --batch; lower it to save memory (same result up to rounding)')
      .argParser(integerIn({ min: 1 })).default(undefined, 'the largest divisor that fits in --max-memory; 1 for StyleGAN3, whose steps run layer by layer'))
    .addOption(new Option('--max-memory <GiB>', 'memory a training step may use, for choosing the micro-batch; more makes big batches faster (FFHQ-1024 batch 4: 12 GiB runs it whole, 1.3–1.5x faster than at 8)')
      .argParser(numberIn({ min: 1 })).default(undefined, '8, or 70% of RAM if less'))
    .option('--json', 'one JSON object per step on stdout instead of a progress bar')
    .addOption(deviceOption())
    .option('--resume', 'continue the run saved in --out from its run state (<name>.state.safetensors beside it)')
    .option('--replay <file.npz>', 'take each step\'s latents, crossovers and noise maps from this file instead of the seeded random source (the layout --record writes; see the README)')
    .option('--parameterisation <name>', `how the vector enters the generator: ${parameterisationNames().join(' or ')}`, 'domain-vector')
    .option('--layers <which>', 'layers to train: all, no-coarse (StyleDomain: skip the first six convs) or comma-separated layer names', 'all')
    .option('--record <file.npz>', 'write each step\'s latents, crossovers and noise maps to this file, to replay the run here or in HyperDomainNet\'s trainer')
    .addHelpText('after', `
The domain vector is a few thousand floats injected through the generator's modulation layers; only it
is trained. Each step follows HyperDomainNet's td_single recipe: a batch of z (a second z with the
--mixing probability), the frozen and the adapted generator called separately, each with its own
style-mixing crossover and noise maps, CLIP on both, the losses, Adam. A text target is embedded
through the 79 ImageNet templates. Ctrl-C stops after the current step and saves the latest vector;
--resume continues exactly.

Examples:
  ganvec adapt --model ffhq --to "pixar" --out pixar.dv.safetensors
  ganvec adapt --model ./stylegan2-ffhq-config-f.pt --clip ViT-B/32 --to "sketch" --iters 200 --preview previews/
  ganvec adapt --model ffhq --images ./ten-photos --out ten-photos.dv.safetensors
  ganvec adapt --model ckpt.pt --clip ViT-B/32 --to "sketch" --iters 12 --replay replay.npz --out sketch.dv.safetensors
  ganvec generate --model ffhq --domain pixar.dv.safetensors --seeds 0-7 --out pixar.png`)
    .action(async (flags: AdaptFlags) => runAdapt(flags));
}

async function runAdapt(flags: AdaptFlags): Promise<void> {
  if (flags.to !== undefined && flags.images) throw new UsageError('give --to (a text) or --images (example images), not both');
  const imageSet = flags.images ? await readExampleImages(flags.images) : undefined;
  const target = imageSet ? `images:${imageSet.digest}` : (flags.to ?? '').trim();
  if (!target) throw new UsageError('--to needs a non-empty target text, e.g. --to "pixar" (or give --images)');
  const source = flags.source.trim();
  if (!source) throw new UsageError('--source must not be empty');
  const settings = parseSettings(flags);
  const { previewEvery, saveEvery, threads, microBatch } = flags;
  if (microBatch !== undefined && settings.batch % microBatch !== 0) throw new UsageError(`--micro-batch: must be a divisor of --batch ${settings.batch}, got ${microBatch}`);
  const out = resolve(flags.out ?? `${slug(flags.images ? basename(resolve(flags.images[0]!)) : target)}.dv.safetensors`);
  await checkWritable(out);
  if (flags.record) await checkWritable(resolve(flags.record));
  const clipNames = flags.clip;
  const clipWeights = flags.clipWeights ?? clipNames.map(() => 1);
  if (clipWeights.length !== clipNames.length) throw new UsageError(`--clip-weights: has ${clipWeights.length} values for ${clipNames.length} CLIP models`);

  const progress: ProgressSink = flags.json ? jsonProgress() : process.stderr.isTTY ? barProgress() : lineProgress();
  // The training batch also serves mapping, previews and the source samples of --images.
  const G = await loadGenerator(flags.model, {
    threads, device: flags.device, batch: settings.batch, parameterisation: flags.parameterisation, layers: layerSelection(flags.layers),
    downloads: downloadProgress(),
  });
  if (G.description.checkpointedSteps && process.env[MALLOC_REUSE_MARK]) {
    await G.release();
    process.exit(RERUN_WITHOUT_MALLOC_REUSE);
  }
  if (G.description.checkpointedSteps && runsOnGlibc() && !installedJemalloc()) {
    progress.message('layer-by-layer steps run about 2.8x faster with jemalloc installed (Debian and Ubuntu: apt install libjemalloc2)');
  }
  const clips: Clip[] = [];
  try {
    for (const name of clipNames) clips.push(await loadClip(name, { threads, device: flags.device, downloads: downloadProgress() }));
    const run = await adapt(G, {
      ...settings,
      ...(imageSet ? { images: imageSet } : { text: { target, source } }),
      clips, clipWeights, out, overwrite: flags.out !== undefined, resume: flags.resume, saveEvery,
      replay: flags.replay, record: flags.record && resolve(flags.record),
      preview: flags.preview ? { dir: flags.preview, every: previewEvery } : undefined,
      handleSignals: true, microBatch, maxMemory: flags.maxMemory && flags.maxMemory * 2 ** 30, session: { threads, device: flags.device },
      onStep: (r) => progress.step(r),
      onMessage: (text) => progress.message(text),
    });
    if (run.stopped === 'non-finite') throw new UsageError(`${run.message}. Saved that vector to ${out}. Try a lower --lr.`);
    if (run.stopped === 'interrupted' || run.signals > 0) {
      progress.message(`interrupted at step ${run.optimizer.step}; saved ${out}. Continue with the same command and --resume.`);
      process.exitCode = 130;
      return;
    }
    const tail = run.losses.slice(-10);
    const summary = tail.length ? `; mean loss of the last ${tail.length} steps ${(tail.reduce((a, b) => a + b, 0) / tail.length).toFixed(4)}` : '';
    progress.message(`saved ${out} after ${run.optimizer.step} steps${summary}`);
  } finally {
    progress.end();
    await Promise.all([G.release(), ...clips.map((c) => c.release())]);
  }
}

function layerSelection(text: string): LayerSelection {
  if (text === 'all' || text === 'no-coarse') return text;
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError('--layers needs all, no-coarse or layer names');
  return names;
}

async function readExampleImages(paths: string[]): Promise<ImageSet> {
  try {
    return await readImageSet(paths);
  } catch (err) {
    if (err instanceof ImageSetError) throw new UsageError(`--images: ${(err as Error).message}`);
    throw err;
  }
}
