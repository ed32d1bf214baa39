import { decodeNumpyArray } from './npy.js';
import { SET_STATE } from './pickle.js';
import type { Buildable, Constructors } from './pickle.js';
import { LoadedTensor } from './storage.js';

/**
 * NumPy values inside pickles, rebuilt as data: scalars (`numpy.core.multiarray.scalar(dtype, bytes)`,
 * e.g. the `weight_gain` floats in NVIDIA's network pickles) and arrays
 * (`numpy.core.multiarray._reconstruct` followed by a BUILD with shape, dtype and raw bytes).
 */

/** `numpy.dtype(code, align, copy)`; its BUILD state carries the byte order. */
class NumpyDType implements Buildable {
  byteOrder = '=';
  structured = false;

  constructor(readonly code: string) {}

  [SET_STATE](state: unknown): void {
    // State: (version, byteorder, subarray, names, fields, elsize, alignment, flags).
    if (!Array.isArray(state) || typeof state[1] !== 'string') throw new TypeError('unexpected numpy.dtype state');
    this.byteOrder = state[1];
    this.structured = state[3] !== null && state[3] !== undefined;
  }

  /** The type string as .npy headers write it, e.g. '<f8' or '|u1'. */
  get descr(): string {
    if (this.structured) throw new TypeError('structured NumPy dtypes are not supported');
    const size = Number(this.code.slice(1));
    if (size === 1 || this.byteOrder === '|') return `|${this.code}`;
    // '=' is the writer's native order; every platform that wrote these files is little-endian.
    return `${this.byteOrder === '=' ? '<' : this.byteOrder}${this.code}`;
  }
}

/** An ndarray under construction: `_reconstruct` makes it empty, BUILD fills it in. */
class NumpyArray extends LoadedTensor implements Buildable {
  constructor() {
    super(new Float32Array(0), [0], 'float32');
  }

  [SET_STATE](state: unknown): void {
    // State: (version, shape, dtype, is_fortran, raw data).
    if (!Array.isArray(state) || state.length < 5) throw new TypeError('unexpected numpy.ndarray state');
    const [, shape, dtype, fortranOrder, raw] = state;
    if (!(dtype instanceof NumpyDType)) throw new TypeError('numpy.ndarray state without a dtype');
    if (!(raw instanceof Uint8Array)) throw new TypeError('object arrays are not supported (numpy.ndarray of Python objects)');
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) throw new TypeError('bad numpy.ndarray shape');
    const decoded = decodeNumpyArray(raw, dtype.descr, shape, fortranOrder === true, (problem) => new TypeError(`numpy array: ${problem}`));
    this.data = decoded.data;
    this.shape = decoded.shape;
    this.storedAs = decoded.storedAs;
  }
}

function scalar(args: unknown[]): number | bigint | boolean {
  const [dtype, raw] = args;
  if (!(dtype instanceof NumpyDType)) throw new TypeError('numpy scalar without a dtype');
  const bytes = raw instanceof Uint8Array ? raw : undefined;
  if (bytes === undefined) throw new TypeError('numpy scalar without its bytes');
  const descr = dtype.descr;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = descr[0] !== '>';
  // Scalars keep full precision (a float64 learning rate stays exact), unlike arrays on the host.
  switch (descr.slice(1)) {
    case 'f8':
      return view.getFloat64(0, little);
    case 'f4':
      return view.getFloat32(0, little);
    case 'i8':
      return safeNumber(view.getBigInt64(0, little));
    case 'u8':
      return safeNumber(view.getBigUint64(0, little));
    case 'i4':
      return view.getInt32(0, little);
    case 'u4':
      return view.getUint32(0, little);
    case 'i2':
      return view.getInt16(0, little);
    case 'u2':
      return view.getUint16(0, little);
    case 'i1':
      return view.getInt8(0);
    case 'u1':
      return view.getUint8(0);
    case 'b1':
      return view.getUint8(0) !== 0;
    case 'f2':
      return Number(decodeNumpyArray(bytes, descr, [], false, (problem) => new TypeError(problem)).data[0]);
    default:
      throw new TypeError(`unsupported numpy scalar type '${descr}'`);
  }
}

function safeNumber(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function dtype(args: unknown[]): NumpyDType {
  if (typeof args[0] !== 'string') throw new TypeError('numpy.dtype expects a type code');
  return new NumpyDType(args[0]);
}

function reconstruct(): NumpyArray {
  return new NumpyArray();
}

export const NUMPY_CONSTRUCTORS: Constructors = {
  'numpy.dtype': dtype,
  // NumPy 2 moved numpy.core to numpy._core; pickles name whichever wrote them.
  'numpy.core.multiarray.scalar': scalar,
  'numpy._core.multiarray.scalar': scalar,
  'numpy.core.multiarray._reconstruct': reconstruct,
  'numpy._core.multiarray._reconstruct': reconstruct,
};
