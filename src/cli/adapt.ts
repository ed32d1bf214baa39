// `ganvec adapt`: train a domain vector for a generator toward a text prompt or a few example images, guided by CLIP.
import type { Command } from 'commander';
import { basename, dirname, join, resolve } from 'node:path';
import { access, constants, mkdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ImageSetError, readImageSet, type ImageSet } from '../io/image-folder.js';
import { baseModelMetadata, readDomainFile, writeDomainFile } from '../domains/domain-file.js';
import { defaultLossWeights, lossNames, parseLossWeights } from '../losses/registry.js';
import { loadClip, type Clip } from '../models/clip/clip.js';
import { loadGenerator } from '../generators/load.js';
import type { Generator } from '../generators/generator.js';
import { adaptDomain, DEFAULT_SETTINGS, drawShape, type AdaptResult, type AdaptSettings, type StepReport } from '../train/adapt.js';
import { DrawRecorder, replayDraws } from '../train/draws-file.js';
import { IMAGENET_TEMPLATES } from '../train/prompt-templates.js';
import { seededDraws, type DrawSource } from '../train/step-draws.js';
import type { Device } from '../engine/session.js';
import type { AdamState } from '../train/adam.js';
import { readRunState, removeStaleTemporaries, statePath, writeRunState, type RunState } from '../train/checkpoint.js';
import { acquireRunLock, RunLockedError } from '../train/run-lock.js';
import { chooseMicroBatch } from '../train/step-runner.js';
import { PreviewWriter } from '../train/preview.js';
import { barProgress, jsonProgress, lineProgress, type ProgressSink } from '../train/progress.js';
import { IMAGE_LOSSES, TEXT_LOSSES, targetDirections } from '../train/adapt-target.js';
import { DEFAULT_SOURCE_SAMPLES } from '../train/source-embeddings.js';
import { DEFAULT_CLIP_MODELS, deviceOption } from './options.js';
import { UsageError } from './run.js';

interface AdaptFlags {
  from: string;
  clip: string;
  clipWeights?: string;
  to?: string;
  images?: string[];
  source: string;
  iters: string;
  batch: string;
  lr: string;
  loss?: string;
  mixing: string;
  seed: string;
  out?: string;
  preview?: string;
  previewEvery: string;
  saveEvery: string;
  threads?: string;
  microBatch?: string;
  device: Device;
  json?: boolean;
  resume?: boolean;
  replay?: string;
  record?: string;
}

function number(flag: string, text: string, check: (x: number) => boolean, rule: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x) || !check(x)) throw new UsageError(`${flag} must be ${rule}, got "${text}"`);
  return x;
}

const isInt = (x: number) => Number.isInteger(x);

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
  const batch = number('--batch', flags.batch, (x) => isInt(x) && x >= 1, 'a whole number ≥ 1');
  if (losses.indomain > 0 && batch < 2) throw new UsageError('--batch must be at least 2 for the indomain loss');
  return {
    iterations: number('--iters', flags.iters, (x) => isInt(x) && x >= 1, 'a whole number ≥ 1'),
    batch,
    lr: number('--lr', flags.lr, (x) => x > 0, 'a number > 0'),
    betas: DEFAULT_SETTINGS.betas,
    mixing: number('--mixing', flags.mixing, (x) => x >= 0 && x <= 1, 'a probability in [0, 1]'),
    seed: number('--seed', flags.seed, (x) => isInt(x) && x >= 0 && x <= 0xffffffff, 'a whole number in [0, 2^32)'),
    losses,
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

/** The settings a resumed run must share with the run it continues. */
function runIdentity(settings: AdaptSettings, target: string, source: string, clips: readonly Clip[], weights: number[], G: Generator, draws: string): Record<string, string> {
  return {
    target, source, draws,
    seed: String(settings.seed), batch: String(settings.batch), lr: String(settings.lr), mixing: String(settings.mixing),
    losses: JSON.stringify(settings.losses),
    clip_models: clips.map((c) => c.name).join(','), clip_weights: weights.join(','),
    base_fingerprint: G.source.fingerprint,
  };
}

export function registerAdapt(program: Command): void {
  program
    .command('adapt')
    .description('Train a domain vector that moves a generator toward a text prompt or a few example images (CLIP-guided, StyleGAN-NADA direction loss).')
    .requiredOption('--from <generator>', 'generator: a registered name (e.g. ffhq) or a checkpoint file (.pt, .pkl, .safetensors)')
    .option('--to <text>', 'the target domain, e.g. "pixar" or "a sketch"')
    .option('--images <paths...>', 'instead of --to: example images, a folder (not recursive) or image files (JPEG, PNG, WebP)')
    .option('--source <text>', 'what the generator makes now', 'photo')
    .option('--clip <models>', 'CLIP models, comma-separated names or files', DEFAULT_CLIP_MODELS)
    .option('--clip-weights <weights>', 'weight of each CLIP model\'s losses, comma-separated (default 1 each)')
    .option('--iters <n>', 'training steps', String(DEFAULT_SETTINGS.iterations))
    .option('--batch <n>', 'latents per step', String(DEFAULT_SETTINGS.batch))
    .option('--lr <x>', 'Adam learning rate', String(DEFAULT_SETTINGS.lr))
    .option('--loss <spec>', `loss weights, ${lossNames().map((n) => `${n}=w`).join(',')} (default ${lossSpec(TEXT_LOSSES)}; with --images ${lossSpec(IMAGE_LOSSES)})`)
    .option('--mixing <p>', 'style-mixing probability', String(DEFAULT_SETTINGS.mixing))
    .option('--seed <n>', 'seed of the training latents and noise', String(DEFAULT_SETTINGS.seed))
    .option('--out <file>', 'domain file to write (default: <target>.dv.safetensors)')
    .option('--preview <dir>', 'write preview grids here (top row original, bottom row adapted)')
    .option('--preview-every <n>', 'steps between previews', '50')
    .option('--save-every <n>', 'steps between saves of the domain file and the run state beside it', '25')
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)')
    .option('--micro-batch <n>', 'samples per graph run, a divisor of --batch; lower it to save memory (same result up to rounding; default: the whole batch if it fits in memory)')
    .option('--json', 'one JSON object per step on stdout instead of a progress bar')
    .addOption(deviceOption())
    .option('--resume', 'continue the run saved in --out from its run state (<name>.state.safetensors beside it)')
    .option('--replay <file.npz>', 'take each step\'s latents, crossovers and noise maps from this file instead of the seeded random source (the layout --record writes; see the README)')
    .option('--record <file.npz>', 'write each step\'s latents, crossovers and noise maps to this file, to replay the run here or in HyperDomainNet\'s trainer')
    .addHelpText('after', `
The domain vector is a few thousand floats injected through the generator's modulation layers; only it
is trained. Each step follows HyperDomainNet's td_single recipe: a batch of z (a second z with the
--mixing probability), the frozen and the adapted generator called separately, each with its own
style-mixing crossover and noise maps, CLIP on both, the losses, Adam. A text target is embedded
through the 79 ImageNet templates. Ctrl-C stops after the current step and saves the latest vector;
--resume continues exactly.

Examples:
  ganvec adapt --from ffhq --to "pixar" --out pixar.dv.safetensors
  ganvec adapt --from ./stylegan2-ffhq-config-f.pt --clip ViT-B/32 --to "sketch" --iters 200 --preview previews/
  ganvec adapt --from ffhq --images ./ten-photos --out ten-photos.dv.safetensors
  ganvec adapt --from ckpt.pt --clip ViT-B/32 --to "sketch" --iters 12 --replay replay.npz --out sketch.dv.safetensors
  ganvec generate --model ffhq --domain pixar.dv.safetensors --seeds 0-7 --grid pixar.png`)
    .action(async (flags: AdaptFlags) => runAdapt(flags));
}

async function runAdapt(flags: AdaptFlags): Promise<void> {
  if (flags.to !== undefined && flags.images) throw new UsageError('give --to (a text) or --images (example images), not both');
  const imageSet = flags.images ? await readExampleImages(flags.images) : undefined;
  // Resumed runs compare this; an image set is known by its digest.
  const target = imageSet ? `images:${imageSet.digest}` : (flags.to ?? '').trim();
  if (!target) throw new UsageError('--to needs a non-empty target text, e.g. --to "pixar" (or give --images)');
  const source = flags.source.trim();
  if (!source) throw new UsageError('--source must not be empty');
  const settings = parseSettings(flags);
  const previewEvery = number('--preview-every', flags.previewEvery, (x) => isInt(x) && x >= 1, 'a whole number ≥ 1');
  const saveEvery = number('--save-every', flags.saveEvery, (x) => isInt(x) && x >= 1, 'a whole number ≥ 1');
  const threads = flags.threads === undefined ? undefined : number('--threads', flags.threads, (x) => isInt(x) && x >= 1, 'a whole number ≥ 1');
  const microBatch = flags.microBatch === undefined ? undefined
    : number('--micro-batch', flags.microBatch, (x) => isInt(x) && x >= 1 && settings.batch % x === 0, `a divisor of --batch ${settings.batch}`);
  const out = resolve(flags.out ?? `${slug(flags.images ? basename(resolve(flags.images[0]!)) : target)}.dv.safetensors`);
  await checkWritable(out);
  if (flags.resume && !existsSync(out)) throw new UsageError(`--resume: ${out} does not exist`);
  if (flags.replay && flags.record) throw new UsageError('give --replay (draws from a file) or --record (draws to a file), not both');
  if (flags.record && flags.resume) throw new UsageError('--record writes a whole run\'s draws from step 0; it cannot be combined with --resume');
  if (flags.replay && !existsSync(flags.replay)) throw new UsageError(`--replay: ${flags.replay} does not exist`);
  if (flags.record) await checkWritable(resolve(flags.record));
  if (!flags.resume && existsSync(out) && !flags.out) {
    throw new UsageError(`${out} exists: pass --resume to continue it or --out to write elsewhere`);
  }

  let lock;
  try {
    lock = acquireRunLock(out);
  } catch (err) {
    if (err instanceof RunLockedError) throw new UsageError(err.message);
    throw err;
  }
  try {
    const progress: ProgressSink = flags.json ? jsonProgress() : process.stderr.isTTY ? barProgress() : lineProgress();
    if (lock.tookOverFrom !== undefined) progress.message(`took over the lock of process ${lock.tookOverFrom}, which is gone`);
    for (const leftover of [...removeStaleTemporaries(out), ...removeStaleTemporaries(statePath(out))]) {
      progress.message(`removed ${leftover}, left by an interrupted save`);
    }
    // The training batch also serves mapping, previews and the source samples of --images.
    const G = await loadGenerator(flags.from, { threads, device: flags.device, batch: settings.batch });
    const clipNames = flags.clip.split(',').map((s) => s.trim()).filter(Boolean);
    if (clipNames.length === 0) throw new UsageError('--clip needs at least one CLIP model');
    const clipWeights = flags.clipWeights?.split(',').map((w) => number('--clip-weights', w, (x) => x >= 0, 'numbers ≥ 0'))
      ?? clipNames.map(() => 1);
    if (clipWeights.length !== clipNames.length) throw new UsageError(`--clip-weights has ${clipWeights.length} values for ${clipNames.length} CLIP models`);
    const clips: Clip[] = [];
    for (const name of clipNames) clips.push(await loadClip(name, { threads, device: flags.device }));

    const chosenMicroBatch = microBatch ?? chooseMicroBatch(settings.batch, G.size, clips.length);
    progress.message(`generator ${basename(G.source.path)} (${G.size}px, ${G.domainSize} domain dims); CLIP ${clips.map((c) => c.name).join(', ')}` +
      (chosenMicroBatch < settings.batch ? `; micro-batches of ${chosenMicroBatch}` : ''));
    if (imageSet) {
      for (const s of imageSet.skipped) progress.message(`skipped ${s.name}: ${s.reason}`);
      progress.message(`${imageSet.images.length} example images; mean embedding of ${DEFAULT_SOURCE_SAMPLES.count} generator samples (cached after the first run)`);
    }
    const directions = await targetDirections(G, clips, imageSet ? { images: imageSet } : { text: target, source });
    const shape = drawShape(G, settings.batch);
    let draws: DrawSource = flags.replay ? replayDraws(flags.replay, shape, settings.iterations) : seededDraws(shape, settings.seed, settings.mixing);
    const drawsFrom = flags.replay ? `replay:${await fileDigest(flags.replay)}` : 'seeded';
    const identity = runIdentity(settings, target, source, clips, clipWeights, G, drawsFrom);

    let start: RunState | undefined;
    if (flags.resume) {
      const product = await readDomainFile(out);
      const { run, ...state } = await readRunState(out);
      const changed = Object.keys(identity).filter((k) => run[k] !== identity[k]);
      if (changed.length > 0) {
        throw new UsageError(`--resume: ${out} was trained with different ${changed.join(', ')} (${changed.map((k) => `${k}=${run[k]}`).join('; ')})`);
      }
      if (state.vector.length !== G.domainSize) {
        throw new UsageError(`--resume: ${statePath(out)} holds ${state.vector.length} values; this generator takes ${G.domainSize}`);
      }
      start = state;
      const behind = Number(product.metadata.iterations) !== state.optimizer.step;
      progress.message(`resuming at step ${state.optimizer.step} of ${settings.iterations}` +
        (behind ? ` from the run state (the domain file, at step ${product.metadata.iterations}, was saved before it)` : ''));
    }

    // A second Ctrl-C quits at once, but never in the middle of a save.
    let saving = false;
    let signals = 0;
    const save = async (vector: Float32Array, optimizer: AdamState) => {
      saving = true;
      try {
        // The run state first: a kill between the two writes leaves it ahead of the domain file (checkpoint.ts).
        await writeRunState(out, { vector, optimizer }, identity);
        await writeDomainFile(out, {
          vector,
          layers: G.domainLayers,
          metadata: {
            ...baseModelMetadata(G),
            ...(imageSet
              ? { image_set: imageSet.digest, image_files: JSON.stringify(imageSet.images.map((im) => im.name)) }
              : { prompt: target, source_text: source, text_templates: JSON.stringify(IMAGENET_TEMPLATES) }),
            draws: drawsFrom,
            losses: JSON.stringify(settings.losses),
            iterations: String(optimizer.step),
            clip_models: clips.map((c) => c.name).join(','),
            clip_weights: clipWeights.join(','),
            seed: String(settings.seed),
            lr: String(settings.lr),
            batch: String(settings.batch),
            mixing: String(settings.mixing),
          },
        });
      } finally {
        saving = false;
      }
      if (signals > 1) process.exit(130);
    };

    const preview = flags.preview ? new PreviewWriter(G) : undefined;
    if (flags.preview) await mkdir(flags.preview, { recursive: true });
    const abort = new AbortController();
    const onSignal = () => {
      signals++;
      if (signals === 1) {
        progress.message('stopping after this step (Ctrl-C again to quit at once, keeping the last save)');
        abort.abort();
      } else if (saving) {
        progress.message('quitting once the save under way is written');
      } else {
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const recorder = flags.record ? new DrawRecorder(draws, resolve(flags.record)) : undefined;
    draws = recorder ?? draws;
    let result: AdaptResult;
    try {
      result = await adaptDomain(G, {
        settings,
        clips: clips.map((c, k) => ({ weights: c.weights, weight: clipWeights[k]!, direction: directions[k]! })),
        start,
        draws,
        signal: abort.signal,
        session: { threads, device: flags.device },
        microBatch: chosenMicroBatch,
        onStep: async (r: StepReport) => {
          progress.step(r);
          if (r.step % saveEvery === 0) await save(r.vector, r.optimizer);
          if (preview && (r.step % previewEvery === 0 || r.step === r.iterations)) {
            await preview.write(join(flags.preview!, `step${String(r.step).padStart(5, '0')}.png`), r.vector);
          }
        },
      });
    } catch (err) {
      recorder?.abandon();
      throw err;
    } finally {
      progress.end();
    }
    await save(result.vector, result.optimizer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (recorder) {
      recorder.close();
      progress.message(`recorded the draws of ${result.optimizer.step} steps in ${flags.record}`);
    }
    const losses = result.losses;
    const tail = losses.slice(-10);
    const summary = tail.length ? `; mean loss of the last ${tail.length} steps ${(tail.reduce((a, b) => a + b, 0) / tail.length).toFixed(4)}` : '';
    if (result.stopped === 'non-finite') {
      throw new UsageError(`${result.message}. Saved that vector to ${out}. Try a lower --lr.`);
    }
    if (result.stopped === 'interrupted' || signals > 0) {
      progress.message(`interrupted at step ${result.optimizer.step}; saved ${out}. Continue with the same command and --resume.`);
      process.exitCode = 130;
      return;
    }
    progress.message(`saved ${out} after ${result.optimizer.step} steps${summary}`);
    await Promise.all([G.release(), ...clips.map((c) => c.release())]);
  } finally {
    lock.release();
  }
}

async function fileDigest(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16);
}

async function readExampleImages(paths: string[]): Promise<ImageSet> {
  try {
    return await readImageSet(paths);
  } catch (err) {
    if (err instanceof ImageSetError) throw new UsageError(`--images: ${(err as Error).message}`);
    throw err;
  }
}
