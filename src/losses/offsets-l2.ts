/** Keeps the domain vector small: Σ over layers of mean(d_layer²). */
import type { Value } from '../engine/graph.js';
import { add, reduceMean, slice, square } from '../engine/ops.js';
import type { VectorLoss } from './loss.js';

export function offsetsL2Loss(domain: Value, layerDims: readonly number[]): Value {
  let total: Value | undefined;
  let at = 0;
  for (const dim of layerDims) {
    const term = reduceMean(square(slice(domain, 0, at, at + dim)), [0]);
    total = total ? add(total, term) : term;
    at += dim;
  }
  return total!;
}

export const offsetsL2: VectorLoss = {
  name: 'offsets_l2', consumes: 'vector', defaultWeight: 0, minBatch: 1,
  build: ({ vector, layerDims }) => offsetsL2Loss(vector, layerDims),
};
