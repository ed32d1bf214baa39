/**
 * The CLIP-space direction from a source text to a target text, as HyperDomainNet's trainer computes it:
 * each text is put into the 79 ImageNet templates, every template embedding is normalised, and the
 * direction is the mean over templates of (unit target − unit source). The direction loss only takes its
 * cosine with image edits, so it is returned normalised.
 */
import type { Tensor } from '../core/tensor.js';
import { fillTemplates, IMAGENET_TEMPLATES } from './prompt-templates.js';
import { unitRows, unitVector } from './unit-vectors.js';

export interface TextEncoder {
  encodeText(texts: string[]): Promise<Tensor>;
}

export async function textDirection(
  clip: TextEncoder, target: string, source: string, templates: readonly string[] = IMAGENET_TEMPLATES,
): Promise<Float32Array> {
  const targets = unitRows(await clip.encodeText(fillTemplates(templates, target)));
  const sources = unitRows(await clip.encodeText(fillTemplates(templates, source)));
  return unitVector(templateDirection(targets, sources));
}

/** mean_t (target_t − source_t) over unit template embeddings (not normalised). */
export function templateDirection(targets: readonly Float64Array[], sources: readonly Float64Array[]): Float64Array {
  const mean = new Float64Array(targets[0]!.length);
  targets.forEach((t, i) => t.forEach((x, j) => (mean[j]! += (x - sources[i]![j]!) / targets.length)));
  return mean;
}
