/** Embeddings are compared on the unit sphere (DESIGN.md §5): x / ‖x‖ along the last axis. */
import type { Value } from '../engine/graph.js';
import { mul, reduceSum, rsqrt, square } from '../engine/ops.js';

export function l2Normalize(x: Value): Value {
  return mul(x, rsqrt(reduceSum(square(x), [-1], true)));
}
