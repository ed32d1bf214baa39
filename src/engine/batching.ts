/**
 * Graphs have a static batch size; callers have any number of rows. These helpers split tensors that
 * share their first dimension into batch-sized chunks (the last one zero-padded) and join the results.
 */
import { numel, type Tensor } from '../core/tensor.js';

/** Rows [start, start + count) of t, zero-padded to `size` rows. */
export function batchSlice(t: Tensor, start: number, count: number, size: number): Tensor {
  const row = numel(t.shape.slice(1));
  const data = new Float32Array(size * row);
  data.set(t.data.subarray(start * row, (start + count) * row));
  return { data, shape: [size, ...t.shape.slice(1)] };
}

/** Runs `fn` on chunks of `batch` rows of every tensor and concatenates the real rows of its results. */
export async function mapBatches(
  tensors: readonly Tensor[],
  batch: number,
  fn: (chunk: Tensor[]) => Promise<Tensor>,
): Promise<Tensor> {
  const n = tensors[0]!.shape[0]!;
  const parts: Tensor[] = [];
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const out = await fn(tensors.map((t) => batchSlice(t, start, count, batch)));
    parts.push(batchSlice(out, 0, count, count));
  }
  const shape = [n, ...parts[0]!.shape.slice(1)];
  const data = new Float32Array(numel(shape));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { data, shape };
}
