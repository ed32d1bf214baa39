/**
 * HyperDomainNet's in-domain angle consistency: adaptation should keep the pairwise angles between
 * samples, so the adapted domain stays as diverse as the original.
 *   Σ_{i<j} (⟨a_i, a_j⟩ − ⟨b_i, b_j⟩)² / (n(n−1)/2)   on unit embeddings a (frozen), b (adapted).
 */
import type { Value } from '../engine/graph.js';
import { matmul, mul, reduceSum, square, sub, transpose } from '../engine/ops.js';
import type { EmbeddingLoss } from './loss.js';

export function indomainLoss(frozen: Value, adapted: Value): Value {
  const n = frozen.shape[0]!;
  if (n < 2) throw new Error('the indomain loss needs a batch of at least 2');
  const gram = (x: Value) => matmul(x, transpose(x, [1, 0])); // [N, N]
  const upper = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) upper[i * n + j] = 1 / ((n * (n - 1)) / 2);
  const diff = square(sub(gram(frozen), gram(adapted)));
  return reduceSum(mul(diff, frozen.graph.constant(upper, [n, n])), [0, 1]);
}

export const indomain: EmbeddingLoss = {
  name: 'indomain', consumes: 'embeddings', defaultWeight: 0, minBatch: 2,
  build: ({ frozen, adapted }) => indomainLoss(frozen, adapted),
};
