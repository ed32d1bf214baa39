/**
 * StyleGAN-NADA's directional CLIP loss: the edit each sample made in CLIP space should point along the
 * target direction. mean over the batch of 1 − cos(E(B(w)) − E(A(w)), Δ), with Δ unit length
 * (from text prompts, or from example images in few-shot adaptation).
 */
import type { Value } from '../engine/graph.js';
import { add, greater, matmul, mul, reduceMean, reduceSum, reshape, rsqrt, square, sub, where } from '../engine/ops.js';
import type { EmbeddingLoss } from './loss.js';

/** Edits shorter than this (on unit embeddings; real ones are 1e-2 and more) have no direction to follow. */
const MIN_EDIT = 1e-5;

/**
 * The edit's direction e / ‖e‖ [N, E]. An edit shorter than MIN_EDIT is the first step of a generator whose
 * frozen and adapted calls coincide at d = 0 (nothing to draw apart: no noise, no crossover, as in the
 * Progressive GAN): there the gradient of e / ‖e‖ would be about 1/‖e‖ times normal, fill Adam's second
 * moment for the rest of the run and leave every element of the vector moving by the same step (the
 * README's collapse). The edit itself stands in for it: the same cosine to within MIN_EDIT, and the
 * gradient of the direction the edit starts to move in. Longer edits (every HyperDomainNet step on
 * StyleGAN2, whose two calls draw their own noise) are normalised as usual.
 */
function editDirection(edit: Value): Value {
  const sq = reduceSum(square(edit), [-1], true); // [N, 1]
  return mul(edit, where(greater(sq, MIN_EDIT * MIN_EDIT), rsqrt(add(sq, 1e-16)), 1));
}

/** frozen, adapted: unit embeddings [N, E]; direction: unit [E]. Returns a scalar. */
export function directionLoss(frozen: Value, adapted: Value, direction: Value): Value {
  const e = direction.shape[0]!;
  const edit = editDirection(sub(adapted, frozen)); // [N, E]
  const cos = matmul(edit, reshape(direction, [e, 1])); // [N, 1]
  return sub(1, reduceMean(cos, [0, 1]));
}

export const direction: EmbeddingLoss = {
  name: 'direction', consumes: 'embeddings', defaultWeight: 1, minBatch: 1,
  build: ({ frozen, adapted, direction }) => directionLoss(frozen, adapted, direction()),
};
