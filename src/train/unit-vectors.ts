/** Embeddings are compared on the unit sphere (DESIGN.md §5); these are the host-side versions, in float64. */
import type { Tensor } from '../core/tensor.js';

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! ** 2;
  return Math.sqrt(s);
}

/** Each row of [N, E] scaled to unit length. */
export function unitRows(t: Tensor): Float64Array[] {
  const e = t.shape[1]!;
  return Array.from({ length: t.shape[0]! }, (_, i) => {
    const row = Float64Array.from(t.data.subarray(i * e, (i + 1) * e));
    const n = norm(row);
    return row.map((x) => x / n);
  });
}

export function unitVector(v: ArrayLike<number>): Float32Array {
  const n = norm(v);
  if (!(n > 0)) throw new Error('the target direction is zero: target and source embed identically');
  return Float32Array.from(v, (x) => x / n);
}
