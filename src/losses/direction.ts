/**
 * StyleGAN-NADA's directional CLIP loss: the edit each sample made in CLIP space should point along the
 * target direction. mean over the batch of 1 − cos(E(B(w)) − E(A(w)), Δ), with Δ unit length
 * (from text prompts, or from example images in few-shot adaptation).
 */
import type { Value } from '../engine/graph.js';
import { matmul, reduceMean, reshape, sub } from '../engine/ops.js';
import { l2Normalize } from './embedding.js';
import type { EmbeddingLoss } from './loss.js';

/** frozen, adapted: unit embeddings [N, E]; direction: unit [E]. Returns a scalar. */
export function directionLoss(frozen: Value, adapted: Value, direction: Value): Value {
  const e = direction.shape[0]!;
  const edit = l2Normalize(sub(adapted, frozen), 1e-8); // [N, E]
  const cos = matmul(edit, reshape(direction, [e, 1])); // [N, 1]
  return sub(1, reduceMean(cos, [0, 1]));
}

export const direction: EmbeddingLoss = {
  name: 'direction', consumes: 'embeddings', defaultWeight: 1, minBatch: 1,
  build: ({ frozen, adapted, direction }) => directionLoss(frozen, adapted, direction()),
};
