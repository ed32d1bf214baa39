/** Rows of [N, E] scaled to unit length, written here apart from the code under test so tests check it independently. */
import type { Tensor } from '../../src/core/tensor.js';

export function unitRowsOf(t: Tensor): Float64Array[] {
  const e = t.shape[1]!;
  const rows: Float64Array[] = [];
  for (let i = 0; i < t.shape[0]!; i++) {
    const row = Array.from(t.data.subarray(i * e, (i + 1) * e));
    const length = Math.sqrt(row.reduce((s, x) => s + x * x, 0));
    rows.push(Float64Array.from(row, (x) => x / length));
  }
  return rows;
}
