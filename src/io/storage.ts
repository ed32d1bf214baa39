import { numel } from '../core/tensor.js';
import type { Tensor, TensorData } from '../core/tensor.js';
import { endianness } from 'node:os';

/**
 * Element types found in checkpoint storages, .npy and safetensors files, and how they land on the host:
 * every float type becomes Float32Array (fp16/bf16 widened, fp64 narrowed), integers keep their width,
 * bool becomes Uint8Array (0/1).
 */
export type ElementType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export const ITEM_SIZE: Record<ElementType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Bytes per element once on the host: floats are float32 there. */
export const HOST_ITEM_SIZE: Record<ElementType, number> = { ...ITEM_SIZE, float16: 4, bfloat16: 4, float64: 4 };

// All these file formats are little-endian; the typed-array views below use the host order.
if (endianness() !== 'LE') throw new Error('ganvec io: a little-endian host is required');

/** Copies `count` elements starting at byte `byteOffset` into a fresh, aligned host array. */
export function decodeElements(
  bytes: Uint8Array,
  byteOffset: number,
  count: number,
  type: ElementType,
): TensorData {
  const byteLength = count * ITEM_SIZE[type];
  if (byteOffset + byteLength > bytes.length) {
    throw new RangeError(`decodeElements: ${byteLength} bytes at ${byteOffset} run past the ${bytes.length} available`);
  }
  // An explicit copy: `slice` on a Node Buffer would return a view into a shared pool.
  const raw = new Uint8Array(byteLength);
  raw.set(bytes.subarray(byteOffset, byteOffset + raw.length));
  switch (type) {
    case 'float32':
      return new Float32Array(raw.buffer);
    case 'float64':
      return Float32Array.from(new Float64Array(raw.buffer));
    case 'float16':
      return halfToFloat32(new Uint16Array(raw.buffer));
    case 'bfloat16': {
      // bf16 is the top half of a float32: shift it back into place.
      const halves = new Uint16Array(raw.buffer);
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = halves[i] << 16;
      return out;
    }
    case 'int64':
      return new BigInt64Array(raw.buffer);
    case 'int32':
      return new Int32Array(raw.buffer);
    case 'int16':
      return new Int16Array(raw.buffer);
    case 'int8':
      return new Int8Array(raw.buffer);
    case 'uint8':
      return raw;
    case 'bool':
      return raw.map((b) => (b !== 0 ? 1 : 0));
  }
}

function halfToFloat32(halves: Uint16Array): Float32Array {
  const table = halfTable();
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]];
  return out;
}

let halfValues: Float32Array | undefined;

/** All 65,536 half-precision values as float32: a table lookup is much faster than decoding each one. */
function halfTable(): Float32Array {
  if (halfValues !== undefined) return halfValues;
  halfValues = new Float32Array(0x10000);
  for (let h = 0; h < 0x10000; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) halfValues[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) halfValues[h] = mantissa ? NaN : sign * Infinity;
    else halfValues[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return halfValues;
}

/** Row-major (C order) strides, in elements, of a contiguous tensor of this shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = step;
    step *= shape[i];
  }
  return strides;
}

/**
 * The largest element index (exclusive) that a view of `shape`/`strides` starting at `offset` touches,
 * so callers can check a view stays inside its storage before reading it. Empty views touch nothing.
 */
export function viewExtent(offset: number, shape: readonly number[], strides: readonly number[]): number {
  if (numel(shape) === 0) return 0;
  let last = offset;
  for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * strides[i];
  return last + 1;
}

/**
 * Materialises a strided view of `source` (element offset + per-axis strides, as torch and NumPy
 * describe views) into a new C-order array, so the rest of ganvec only ever sees contiguous tensors.
 */
export function gatherStrided<D extends TensorData>(
  source: D,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
): D {
  const n = numel(shape);
  const contiguous = contiguousStrides(shape);
  if (strides.every((s, i) => s === contiguous[i] || shape[i] === 1)) {
    return source.slice(offset, offset + n) as D;
  }
  const out = new (source.constructor as new (length: number) => D)(n);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let from = offset;
  for (let i = 0; i < n; i++) {
    out[i] = source[from];
    // Odometer increment over the multi-index, keeping the source position in step.
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      from += strides[axis];
      if (index[axis] < shape[axis]) break;
      from -= strides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return out;
}

/**
 * A tensor read from a file. It is a plain host `Tensor` (C order, floats as float32) that also remembers
 * the element type the file stored, e.g. 'float16' for OpenAI's released CLIP weights. A strided view is
 * given as a function that copies it out of its storage, called on first use of `data`: describing a
 * checkpoint (`ganvec info`) copies nothing.
 */
export class LoadedTensor implements Tensor<TensorData> {
  private values: TensorData | undefined;
  private materialise: (() => TensorData) | undefined;

  constructor(
    data: TensorData | (() => TensorData),
    public shape: number[],
    public storedAs: ElementType,
  ) {
    this.data = data;
  }

  get data(): TensorData {
    if (this.values === undefined) {
      this.values = this.materialise!();
      this.materialise = undefined;
    }
    return this.values;
  }

  set data(data: TensorData | (() => TensorData)) {
    this.values = typeof data === 'function' ? undefined : data;
    this.materialise = typeof data === 'function' ? data : undefined;
  }

  /** What `data` takes, or will take once materialised. */
  get hostBytes(): number {
    return numel(this.shape) * HOST_ITEM_SIZE[this.storedAs];
  }
}
