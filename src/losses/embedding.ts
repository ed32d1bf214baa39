/** Embeddings are compared on the unit sphere (DESIGN.md §5): x / ‖x‖ along the last axis. */
import type { Value } from '../engine/graph.js';
import { add, mul, reduceSum, rsqrt, square } from '../engine/ops.js';

/**
 * x / sqrt(‖x‖² + eps²). With eps > 0 a zero row maps to zero with a finite gradient: the edit
 * direction of the first step is exactly zero, because the adapted generator starts as the frozen one.
 */
export function l2Normalize(x: Value, eps = 0): Value {
  const sq = reduceSum(square(x), [-1], true);
  return mul(x, rsqrt(eps > 0 ? add(sq, eps * eps) : sq));
}
