/**
 * Host-side tensors: a typed array plus a shape, row-major (C order).
 * Floating point data is always float32 on the host: files stored as fp16/bf16/fp64 are widened at load.
 */
export type FloatData = Float32Array;
export type IntData = BigInt64Array | Int32Array | Uint8Array | Int8Array | Int16Array;
export type TensorData = FloatData | IntData;

export interface Tensor<D extends TensorData = Float32Array> {
  data: D;
  shape: number[];
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Flat (row-major) index `flat` of a tensor of this shape as its index tuple, e.g. [1, 2, 3]. */
export function indexString(shape: readonly number[], flat: number): string {
  const index: number[] = [];
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index.unshift(flat % shape[axis]!);
    flat = Math.floor(flat / shape[axis]!);
  }
  return shapeString(index);
}

/**
 * The first NaN or infinity in `data` as "holds NaN at <where>", `where(i)` naming flat index i; undefined
 * when every value is finite. Inputs are checked with it before they reach a model, which would only
 * pass a NaN on to every output.
 */
export function firstNonFinite(data: Float32Array, where: (index: number) => string): string | undefined {
  const i = data.findIndex((v) => !Number.isFinite(v));
  return i < 0 ? undefined : `holds ${data[i]} at ${where(i)}`;
}

/** [r, c] → [c, r] on the host (weights are stored as PyTorch lays them out; MatMul wants the transpose). */
export function transpose2d(t: Tensor): Tensor {
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
  return { data: out, shape: [c, r] };
}
