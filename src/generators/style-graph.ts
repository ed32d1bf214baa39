/** Graph pieces the StyleGAN families (2 and 3) share, written as in NVIDIA's networks. */
import type { Value } from '../engine/graph.js';
import { add, leakyRelu, mul, reduceMean, reshape, rsqrt, slice, square } from '../engine/ops.js';

/**
 * The mapping network: z [N, zDim] → w [N, wDim], the second-moment normalisation of z (pixel norm) and
 * then `layers` dense layers, each followed by leaky ReLU·√2. `dense(i, x)` applies layer i.
 */
export function styleMapping(z: Value, layers: number, dense: (i: number, x: Value) => Value): Value {
  let x = mul(z, rsqrt(add(reduceMean(square(z), [1], true), 1e-8)));
  for (let i = 0; i < layers; i++) x = mul(leakyRelu(dense(i, x), 0.2), Math.SQRT2);
  return x;
}

/** Row `i` of W+ [N, L, D] as [N, D]. */
export function latentRow(ws: Value, i: number): Value {
  const [n, , d] = ws.shape as [number, number, number];
  return reshape(slice(ws, 1, i, i + 1), [n, d]);
}
