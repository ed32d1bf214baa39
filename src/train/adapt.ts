/**
 * `adapt(G, options)`: a whole training run, the one entry point the CLI, the examples and notebooks use.
 * It works out each CLIP model's target direction (a text, or example images), picks the step's draws
 * (seeded, replayed or recorded), runs the loop (loop.ts) and, given `out`, owns what a run leaves on disk:
 * the domain file with its metadata and the run state beside it, saved atomically every `saveEvery` steps
 * and at the end, resumed exactly with `resume`, one run per file (a lock), and with `handleSignals`
 * Ctrl-C/SIGTERM stop after the step under way (a second one quits at once, never mid-save). It reports
 * through `onStep` and `onMessage`; it prints nothing itself.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { baseModelMetadata, readDomainFile, writeDomainFile } from '../domains/domain-file.js';
import type { Generator } from '../generators/generator.js';
import { readImageSet, type ImageInput, type ImageSet } from '../io/image-folder.js';
import { defaultLossWeights, type LossWeights } from '../losses/registry.js';
import type { Clip } from '../clip/clip.js';
import { removeStaleTemporaries } from '../io/atomic.js';
import { readRunState, statePath, writeRunState, type RunState } from './checkpoint.js';
import { DrawRecorder, replayDraws } from './draws-file.js';
import { imageDirection } from './image-direction.js';
import { adaptDomain, DEFAULT_SETTINGS, drawShape, type AdaptResult, type AdaptSettings, type StepReport } from './loop.js';
import { PreviewWriter } from './preview.js';
import { IMAGENET_TEMPLATES } from './prompt-templates.js';
import { acquireRunLock } from './run-lock.js';
import type { SourceEmbeddingOptions } from './source-embeddings.js';
import { seededDraws, type DrawSource } from './step-draws.js';
import { stepPlan } from './step-runner.js';
import type { SessionOptions } from '../engine/session.js';
import { textDirection } from './text-direction.js';

/** Text adaptation trains the direction loss alone (StyleGAN-NADA, HyperDomainNet td_single). */
export const TEXT_LOSSES: LossWeights = defaultLossWeights();
/** A few images pin down less than a text does; HyperDomainNet's in-domain term keeps the samples diverse. */
export const IMAGE_LOSSES: LossWeights = { ...defaultLossWeights(), indomain: 0.5 };

export interface AdaptOptions extends Partial<AdaptSettings> {
  /** Adapt toward a text; `source` (what the generator makes now) defaults to "photo". */
  text?: { target: string; source?: string };
  /** Adapt toward example images: folders, files or image bytes, or a set already read. */
  images?: readonly ImageInput[] | ImageSet;
  clips: readonly Clip[];
  /** Weight of each CLIP model's losses (default 1 each). */
  clipWeights?: readonly number[];
  /** How the frozen generator's mean embedding is sampled and cached (images only). */
  source?: SourceEmbeddingOptions;
  /** Write the domain file here, and the run state beside it (`<name>.state.safetensors`). */
  out?: string;
  /** Replace an existing `out` instead of refusing (ignored with `resume`). */
  overwrite?: boolean;
  /** Continue the run saved in `out`; its settings must match. */
  resume?: boolean;
  /** Steps between saves of `out` (default 25); it is also saved when the run ends, however it ends. */
  saveEvery?: number;
  /** Take every step's draws from this .npz (draws-file.ts) instead of the seeded random source. */
  replay?: string;
  /** Write every step's draws to this .npz. */
  record?: string;
  /** Preview grids (top row original, bottom row adapted) written to `dir` every `every` steps. */
  preview?: { dir: string; every: number };
  /** Stop on SIGINT/SIGTERM after the step under way; a second signal exits with 130 (never mid-save). */
  handleSignals?: boolean;
  /** Stop after the step under way once aborted. */
  signal?: AbortSignal;
  onStep?: (report: StepReport) => void | Promise<void>;
  onMessage?: (text: string) => void;
  /** Extra string metadata for the domain file. */
  metadata?: Record<string, string>;
  /** Samples per graph run (default: the largest divisor of the batch expected to fit in `maxMemory`). */
  microBatch?: number;
  /** Bytes a step may use when choosing the micro-batch (default: `defaultStepMemory()`, 8 GiB or 70% of RAM). */
  maxMemory?: number;
  session?: SessionOptions;
}

export interface AdaptOutcome extends AdaptResult {
  settings: AdaptSettings;
  /** The unit target direction of each CLIP model. */
  directions: Float32Array[];
  /** The images used (and skipped), when adapting toward images. */
  imageSet?: ImageSet;
  /** Signals received while running (with `handleSignals`). */
  signals: number;
}

export async function adapt(G: Generator, options: AdaptOptions): Promise<AdaptOutcome> {
  const { text, images, clips, out } = options;
  if ((text === undefined) === (images === undefined)) throw new Error('adapt needs exactly one of text or images');
  if (text && !text.target.trim()) throw new Error('the target text is empty');
  if (clips.length === 0) throw new Error('adapt needs at least one CLIP model');
  const clipWeights = options.clipWeights ?? clips.map(() => 1);
  if (clipWeights.length !== clips.length) throw new Error(`${clipWeights.length} CLIP weights for ${clips.length} CLIP models`);
  const settings = settingsOf(options, text ? TEXT_LOSSES : IMAGE_LOSSES);
  if (options.replay && options.record) throw new Error('give replay (draws from a file) or record (draws to a file), not both');
  if (options.record && options.resume) throw new Error('record writes a whole run\'s draws from step 0; it cannot be combined with resume');
  if (options.replay && !existsSync(options.replay)) throw new Error(`replay: ${options.replay} does not exist`);
  if (out) {
    if (options.resume && !existsSync(out)) throw new Error(`resume: ${out} does not exist`);
    if (!options.resume && !options.overwrite && existsSync(out)) throw new Error(`${out} exists: resume it, or write elsewhere`);
  } else if (options.resume) {
    throw new Error('resume needs the domain file (out) to continue');
  }
  const message = options.onMessage ?? (() => {});
  const prompt = text?.target.trim();
  const sourceText = text?.source?.trim() || 'photo';

  const lock = out ? acquireRunLock(out) : undefined;
  try {
    if (out) {
      if (lock!.tookOverFrom !== undefined) message(`took over the lock of process ${lock!.tookOverFrom}, which is gone`);
      for (const leftover of [...removeStaleTemporaries(out), ...removeStaleTemporaries(statePath(out))]) {
        message(`removed ${leftover}, left by an interrupted save`);
      }
    }
    const imageSet = images ? ('digest' in images ? images : await readImageSet(images as readonly ImageInput[])) : undefined;
    if (imageSet) for (const s of imageSet.skipped) message(`skipped ${s.name}: ${s.reason}`);
    const { microBatch, checkpointed } = stepPlan(G, settings.batch, clips.length, options.maxMemory, options.microBatch);
    const howSteps = checkpointed ? `; layer by layer, micro-batches of ${microBatch}` : microBatch < settings.batch ? `; micro-batches of ${microBatch}` : '';
    message(`generator ${basename(G.source.path)} (${G.size}px, ${G.domainSize} ${G.parameterisation.name} values); ` +
      `CLIP ${clips.map((c) => c.name).join(', ')}${howSteps}`);
    if (imageSet) message(`${imageSet.images.length} example images; mean embedding of the generator's samples (cached after the first run)`);
    const directions: Float32Array[] = [];
    for (const clip of clips) {
      directions.push(imageSet
        ? await imageDirection(G, clip, imageSet, options.source)
        : await textDirection(clip, prompt!, sourceText));
    }

    const shape = drawShape(G, settings.batch);
    const drawsFrom = options.replay ? `replay:${await fileDigest(options.replay)}` : 'seeded';
    let draws: DrawSource = options.replay ? replayDraws(options.replay, shape, settings.iterations) : seededDraws(shape, settings.seed, settings.mixing);
    const recorder = options.record ? new DrawRecorder(draws, options.record) : undefined;
    draws = recorder ?? draws;

    const target: Record<string, string> = imageSet
      ? { image_set: imageSet.digest, image_files: JSON.stringify(imageSet.images.map((im) => im.name)) }
      : { prompt: prompt!, source_text: sourceText, text_templates: JSON.stringify(IMAGENET_TEMPLATES) };
    // What the domain file records of the run; a resumed run must match it, and the target and weights too.
    const recorded: Record<string, string> = {
      parameterisation: G.parameterisation.name, draws: drawsFrom, losses: JSON.stringify(settings.losses),
      clip_models: clips.map((c) => c.name).join(','), clip_weights: clipWeights.join(','),
      seed: String(settings.seed), lr: String(settings.lr), batch: String(settings.batch), mixing: String(settings.mixing),
    };
    const identity: Record<string, string> = {
      ...recorded, target: imageSet ? `images:${imageSet.digest}` : prompt!, source: sourceText,
      base_fingerprint: G.source.fingerprint, layers: G.domainLayers.map((l) => l.name).join(','),
    };

    const start = out && options.resume ? await resumeState(out, G, identity, settings, message) : undefined;
    const files = out ? new RunFiles(out, G, identity, { ...baseModelMetadata(G), ...target, ...options.metadata, ...recorded }) : undefined;
    const preview = options.preview ? new PreviewWriter(G) : undefined;
    if (options.preview) await mkdir(options.preview.dir, { recursive: true });
    const saveEvery = options.saveEvery ?? 25;

    const stop = new StopSignals(options, message);
    let result: AdaptResult;
    try {
      result = await adaptDomain(G, {
        settings, draws, start, microBatch, session: options.session, signal: stop.signal,
        clips: clips.map((clip, k) => ({ weights: clip.weights, weight: clipWeights[k]!, direction: directions[k]! })),
        onStep: async (r) => {
          await options.onStep?.(r);
          if (files && r.step % saveEvery === 0) await stop.saving(() => files.save(r));
          if (preview && (r.step % options.preview!.every === 0 || r.step === r.iterations)) {
            await preview.write(join(options.preview!.dir, `step${String(r.step).padStart(5, '0')}.png`), r.vector);
          }
        },
      });
      if (files) await stop.saving(() => files.save(result));
    } catch (err) {
      recorder?.abandon();
      throw err;
    } finally {
      stop.release();
    }
    if (recorder) {
      recorder.close();
      message(`recorded the draws of ${result.optimizer.step} steps in ${options.record}`);
    }
    return { ...result, settings, directions, imageSet, signals: stop.count };
  } finally {
    lock?.release();
  }
}

/** The defaults, with the options that are given (`{ lr: undefined }` keeps the default lr). */
function settingsOf(o: AdaptOptions, losses: LossWeights): AdaptSettings {
  const d = DEFAULT_SETTINGS;
  return {
    iterations: o.iterations ?? d.iterations, batch: o.batch ?? d.batch, lr: o.lr ?? d.lr, betas: o.betas ?? d.betas,
    mixing: o.mixing ?? d.mixing, seed: o.seed ?? d.seed, losses: o.losses ?? losses,
  };
}

/** The run state in `out`'s state file, checked against this run's settings. */
async function resumeState(out: string, G: Generator, identity: Record<string, string>, settings: AdaptSettings, message: (text: string) => void): Promise<RunState> {
  const product = await readDomainFile(out);
  const { run, ...state } = await readRunState(out);
  const changed = Object.keys(identity).filter((k) => run[k] !== identity[k]);
  if (changed.length > 0) {
    throw new Error(`resume: ${out} was trained with different ${changed.join(', ')} (${changed.map((k) => `${k}=${run[k]}`).join('; ')})`);
  }
  if (state.vector.length !== G.domainSize) throw new Error(`resume: ${statePath(out)} holds ${state.vector.length} values; this generator takes ${G.domainSize}`);
  const behind = Number(product.metadata.iterations) !== state.optimizer.step;
  message(`resuming at step ${state.optimizer.step} of ${settings.iterations}` +
    (behind ? ` from the run state (the domain file, at step ${product.metadata.iterations}, was saved before it)` : ''));
  return state;
}

/** The domain file and the run state beside it; the state first (see checkpoint.ts). */
class RunFiles {
  constructor(
    private readonly out: string,
    private readonly G: Generator,
    private readonly identity: Record<string, string>,
    private readonly metadata: Record<string, string>,
  ) {}

  async save({ vector, optimizer }: RunState): Promise<void> {
    await mkdir(dirname(this.out), { recursive: true });
    await writeRunState(this.out, { vector, optimizer }, this.identity);
    await writeDomainFile(this.out, { vector, layers: this.G.domainLayers, metadata: { ...this.metadata, iterations: String(optimizer.step) } });
  }
}

/**
 * SIGINT/SIGTERM while training: the first stops after the step under way; a later one exits at once
 * with 130 — unless a save is being written, then right after it, so the files on disk stay a pair.
 */
class StopSignals {
  readonly signal: AbortSignal | undefined;
  count = 0;
  private readonly controller = new AbortController();
  private writing = false;
  private readonly onSignal = () => {
    this.count++;
    if (this.count === 1) {
      this.message('stopping after this step (Ctrl-C again to quit at once, keeping the last save)');
      this.controller.abort();
    } else if (this.writing) {
      this.message('quitting once the save under way is written');
    } else {
      process.exit(130);
    }
  };

  constructor(options: AdaptOptions, private readonly message: (text: string) => void) {
    const outer = options.signal;
    outer?.addEventListener('abort', () => this.controller.abort(), { once: true });
    this.signal = options.handleSignals || outer ? this.controller.signal : undefined;
    if (options.handleSignals) {
      process.on('SIGINT', this.onSignal);
      process.on('SIGTERM', this.onSignal);
    }
  }

  async saving(write: () => Promise<void>): Promise<void> {
    this.writing = true;
    try {
      await write();
    } finally {
      this.writing = false;
    }
    if (this.count > 1) process.exit(130);
  }

  release(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

async function fileDigest(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16);
}
