/**
 * One call for both kinds of adaptation: toward a text (`text: { target, source }`) or toward a few
 * example images (`images: [...]`). It works out each CLIP model's target direction and runs the
 * training loop; the two kinds differ only in that direction and in their default losses.
 */
import { readImageSet, type ImageInput, type ImageSet } from '../io/image-folder.js';
import { defaultLossWeights, type LossWeights } from '../losses/registry.js';
import type { Clip } from '../models/clip/clip.js';
import type { Generator } from '../generators/generator.js';
import { adaptDomain, DEFAULT_SETTINGS, type AdaptResult, type AdaptRun, type AdaptSettings } from './adapt.js';
import { imageDirection } from './image-direction.js';
import type { SourceEmbeddingOptions } from './source-embeddings.js';
import { textDirection } from './text-direction.js';

/** Text adaptation trains the direction loss alone (StyleGAN-NADA). */
export const TEXT_LOSSES: LossWeights = defaultLossWeights();
/** A few images pin down less than a text does; HyperDomainNet's in-domain term keeps the samples diverse. */
export const IMAGE_LOSSES: LossWeights = { ...defaultLossWeights(), indomain: 0.5 };

export interface AdaptOptions extends Partial<AdaptSettings>, Omit<AdaptRun, 'settings' | 'clips'> {
  /** Adapt toward a text; `source` (what the generator makes now) defaults to "photo". */
  text?: { target: string; source?: string };
  /** Adapt toward example images: folders, files or image bytes. */
  images?: readonly ImageInput[];
  clips: readonly Clip[];
  /** Weight of each CLIP model's losses (default 1 each). */
  clipWeights?: readonly number[];
  /** How the frozen generator's mean embedding is sampled and cached (images only). */
  source?: SourceEmbeddingOptions;
}

export interface AdaptOutcome extends AdaptResult {
  settings: AdaptSettings;
  /** The unit target direction of each CLIP model. */
  directions: Float32Array[];
  /** The images used (and skipped), when adapting toward images. */
  imageSet?: ImageSet;
}

export async function adapt(G: Generator, options: AdaptOptions): Promise<AdaptOutcome> {
  const { text, images, clips, clipWeights, source, start, draws, signal, onStep, session, microBatch, ...overrides } = options;
  if ((text === undefined) === (images === undefined)) throw new Error('adapt needs exactly one of text or images');
  if (clips.length === 0) throw new Error('adapt needs at least one CLIP model');
  const weights = clipWeights ?? clips.map(() => 1);
  if (weights.length !== clips.length) throw new Error(`${weights.length} CLIP weights for ${clips.length} CLIP models`);

  const imageSet = images ? await readImageSet(images) : undefined;
  const directions = await targetDirections(
    G, clips, imageSet ? { images: imageSet } : { text: text!.target, source: text!.source ?? 'photo' }, source,
  );

  const settings: AdaptSettings = { ...DEFAULT_SETTINGS, losses: text ? TEXT_LOSSES : IMAGE_LOSSES, ...definedOnly(overrides) };
  const result = await adaptDomain(G, {
    settings,
    clips: clips.map((clip, k) => ({ weights: clip.weights, weight: weights[k]!, direction: directions[k]! })),
    start, draws, signal, onStep, session, microBatch,
  });
  return { ...result, settings, directions, imageSet };
}

/** Each CLIP model's unit target direction: text minus source text, or example images minus generator samples. */
export async function targetDirections(
  G: Generator,
  clips: readonly Clip[],
  target: { text: string; source: string } | { images: ImageSet },
  sourceSamples?: SourceEmbeddingOptions,
): Promise<Float32Array[]> {
  const directions: Float32Array[] = [];
  for (const clip of clips) {
    directions.push('images' in target
      ? await imageDirection(G, clip, target.images, sourceSamples)
      : await textDirection(clip, target.text, target.source));
  }
  return directions;
}

/** `{ lr: undefined }` must not override the default lr. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
