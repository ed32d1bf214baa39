/**
 * Quality and diversity of an adapted generator, as HyperDomainNet's `Evaluator` measures them on unit
 * CLIP image embeddings of n samples, for each CLIP model:
 *   Quality   = mean cosine between the samples and the target: the text through each template (by
 *               default the 79 ImageNet templates, as the Evaluator; StyleDomain's "A {}" on request),
 *               averaged over samples × templates; or every example image (mean over images × samples).
 *   Diversity = mean over pairs i < j of (1 − cos(e_i, e_j)).
 * Samples as sample-embeddings.ts draws them (seeds seed … seed+n−1, truncation 1, constant noise), the
 * same for every CLIP model.
 */
import type { Clip } from '../clip/clip.js';
import type { Generator } from '../generators/generator.js';
import type { ImageSet } from '../io/image-folder.js';
import { targetEmbeddings } from './image-direction.js';
import { fillTemplates, IMAGENET_TEMPLATES } from './prompt-templates.js';
import { sampleEmbeddings } from './sample-embeddings.js';
import { unitRows } from './unit-vectors.js';

export type EvaluationTarget = { text: string; templates?: readonly string[] } | { images: ImageSet };

export interface EvaluateOptions {
  target: EvaluationTarget;
  /** The adapted domain; omitted = the original generator. */
  domain?: Float32Array;
  /** Samples (default 500). */
  n?: number;
  /** First seed (default 0). */
  seed?: number;
  /** Called after each chunk of samples with how many are done. */
  onProgress?: (done: number, total: number) => void;
}

export interface Evaluation {
  /** The CLIP model's name. */
  clip: string;
  quality: number;
  diversity: number;
  n: number;
}

/** One evaluation per CLIP model, in the order given. */
export async function evaluateDomain(G: Generator, clips: readonly Clip[], options: EvaluateOptions): Promise<Evaluation[]> {
  const { n = 500, seed = 0, target } = options;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`evaluation needs a whole number of samples ≥ 2 (diversity compares pairs), got ${n}`);
  const targets: Float64Array[][] = [];
  for (const clip of clips) {
    targets.push('text' in target
      ? unitRows(await clip.encodeText(fillTemplates(target.templates ?? IMAGENET_TEMPLATES, target.text)))
      : await targetEmbeddings(clip, target.images));
  }
  const samples = await sampleEmbeddings(G, clips, { count: n, seed, domain: options.domain, onProgress: options.onProgress });
  return clips.map((clip, k) => ({ clip: clip.name, quality: meanCosine(samples[k]!, targets[k]!), diversity: diversity(samples[k]!), n }));
}

/** Mean of ⟨a, b⟩ over every pair of a row of `a` and a row of `b` (unit rows). */
export function meanCosine(a: readonly Float64Array[], b: readonly Float64Array[]): number {
  let sum = 0;
  for (const x of a) for (const y of b) sum += dot(x, y);
  return sum / (a.length * b.length);
}

/** Mean over pairs i < j of 1 − ⟨e_i, e_j⟩ (unit rows). */
export function diversity(rows: readonly Float64Array[]): number {
  let sum = 0;
  for (let i = 0; i < rows.length; i++) for (let j = 0; j < i; j++) sum += 1 - dot(rows[i]!, rows[j]!);
  return sum / ((rows.length * (rows.length - 1)) / 2);
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let k = 0; k < x.length; k++) s += x[k]! * y[k]!;
  return s;
}
