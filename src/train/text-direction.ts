/**
 * The CLIP-space direction from a source text to a target text, as HyperDomainNet's trainer computes it:
 * each text is put into the 79 ImageNet templates, every template embedding is normalised, and the
 * direction is the mean over templates of (unit target − unit source). The direction loss only takes its
 * cosine with image edits, so it is returned normalised.
 */
import type { Tensor } from '../engine/tensor.js';
import { fillTemplates, IMAGENET_TEMPLATES } from './prompt-templates.js';

export interface TextEncoder {
  encodeText(texts: string[]): Promise<Tensor>;
}

/** Each row of [N, E] scaled to unit length, in float64. */
export function normalizeRows(t: Tensor): Float64Array[] {
  const e = t.shape[1]!;
  const rows: Float64Array[] = [];
  for (let i = 0; i < t.shape[0]!; i++) {
    const row = Float64Array.from(t.data.subarray(i * e, (i + 1) * e));
    const norm = Math.hypot(...row);
    rows.push(row.map((x) => x / norm));
  }
  return rows;
}

export function unitVector(v: ArrayLike<number>): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! ** 2;
  const norm = Math.sqrt(s);
  if (!(norm > 0)) throw new Error('the target direction is zero: target and source embed identically');
  return Float32Array.from(v, (x) => x / norm);
}

export async function textDirection(
  clip: TextEncoder, target: string, source: string, templates: readonly string[] = IMAGENET_TEMPLATES,
): Promise<Float32Array> {
  const targets = normalizeRows(await clip.encodeText(fillTemplates(templates, target)));
  const sources = normalizeRows(await clip.encodeText(fillTemplates(templates, source)));
  return unitVector(templateDirection(targets, sources));
}

/** mean_t (target_t − source_t) over unit template embeddings (not normalised). */
export function templateDirection(targets: readonly Float64Array[], sources: readonly Float64Array[]): Float64Array {
  const mean = new Float64Array(targets[0]!.length);
  targets.forEach((t, i) => t.forEach((x, j) => (mean[j]! += (x - sources[i]![j]!) / targets.length)));
  return mean;
}
