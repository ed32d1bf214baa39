/**
 * The CLIP-space direction from a source text to a target text (StyleGAN-NADA): each text is put into
 * the prompt templates, every template embedding is normalised, and the normalised mean of the
 * per-template differences is the direction.
 */
import type { Tensor } from '../engine/tensor.js';

/** Prompt templates from the CLIP paper's ImageNet zero-shot set (a subset). */
export const PROMPT_TEMPLATES = [
  'a photo of a {}.', 'a rendering of a {}.', 'a cropped photo of the {}.', 'the photo of a {}.',
  'a photo of a clean {}.', 'a photo of a dirty {}.', 'a dark photo of the {}.', 'a photo of my {}.',
  'a photo of the cool {}.', 'a close-up photo of a {}.', 'a bright photo of the {}.', 'a cropped photo of a {}.',
  'a photo of the {}.', 'a good photo of the {}.', 'a photo of one {}.', 'a close-up photo of the {}.',
  'a rendition of the {}.', 'a photo of the clean {}.', 'a rendition of a {}.', 'a photo of a nice {}.',
  'a good photo of a {}.', 'a photo of the nice {}.', 'a photo of the small {}.', 'a photo of the weird {}.',
  'a photo of the large {}.', 'a photo of a cool {}.', 'a photo of a small {}.',
] as const;

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

export async function textDirection(clip: TextEncoder, target: string, source: string): Promise<Float32Array> {
  const fill = (text: string) => PROMPT_TEMPLATES.map((t) => t.replace('{}', text));
  const targets = normalizeRows(await clip.encodeText(fill(target)));
  const sources = normalizeRows(await clip.encodeText(fill(source)));
  const mean = new Float64Array(targets[0]!.length);
  targets.forEach((t, i) => t.forEach((x, j) => (mean[j]! += (x - sources[i]![j]!) / targets.length)));
  return unitVector(mean);
}
