import { readBytes, withFileSource } from './byte-source.js';
import { numel, shapeString } from '../core/tensor.js';
import type { Tensor, TensorData } from '../core/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { CheckpointError } from './errors.js';
import { ITEM_SIZE, LoadedTensor, decodeElements, gatherStrided } from './storage.js';
import type { ElementType } from './storage.js';

/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0), the way latents, images and features travel
 * between ganvec and Python. float64 arrays are narrowed to float32 on read, like every float on the host.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** NumPy type strings (byte order + kind + size) that ganvec reads, and how they land on the host. */
export const NUMPY_DESCR_TYPES: Record<string, ElementType> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<f2': 'float16',
  '<i8': 'int64',
  '<i4': 'int32',
  '<i2': 'int16',
  '|i1': 'int8',
  '|u1': 'uint8',
  '|b1': 'bool',
};

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

export async function readNpy(path: string): Promise<Tensor<TensorData>> {
  return parseNpy(await readBytes(path), path);
}

/** Decodes .npy bytes; `name` is only used in error messages. */
export function parseNpy(bytes: Uint8Array, name: string): Tensor<TensorData> {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new CheckpointError(name, 'not a .npy file (missing the \\x93NUMPY magic)');
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new CheckpointError(name, '.npy file truncated inside its header');
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new CheckpointError(name, `unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) {
    throw new CheckpointError(name, `.npy header claims ${headerLength} bytes but the file ends first`);
  }
  // Version 3.0 only differs by allowing UTF-8 in the header; 1.0/2.0 headers are latin-1.
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const header = parseHeader(headerText, name);
  return decodeNumpyArray(bytes.subarray(dataStart), header.descr, header.shape, header.fortranOrder, (problem) => new CheckpointError(name, problem));
}

/**
 * Decodes the raw bytes of a NumPy array (as stored in .npy files and in pickled ndarrays) into a
 * C-order host tensor. `fail` makes the error for a problem: .npy files name the file, pickles add where.
 */
export function decodeNumpyArray(
  bytes: Uint8Array,
  descr: string,
  shape: number[],
  fortranOrder: boolean,
  fail: (problem: string) => Error,
): LoadedTensor {
  const type = NUMPY_DESCR_TYPES[descr];
  if (type === undefined) {
    throw fail(`unsupported NumPy dtype '${descr}' (supported: ${Object.keys(NUMPY_DESCR_TYPES).join(' ')})`);
  }
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw fail(`array shape ${shapeString(shape)} is not a list of non-negative integers`);
  const count = numel(shape);
  const byteLength = count * ITEM_SIZE[type];
  if (byteLength > bytes.length) {
    throw fail(`array data for shape ${shapeString(shape)} ${descr} needs ${byteLength} bytes, only ${bytes.length} are there`);
  }
  const flat = decodeElements(bytes, 0, count, type);
  if (!fortranOrder || shape.length < 2) return new LoadedTensor(flat, shape, type);
  // Fortran order: the first axis varies fastest. Read it as a strided view to get C order.
  const strides: number[] = [];
  let step = 1;
  for (const dim of shape) {
    strides.push(step);
    step *= dim;
  }
  return new LoadedTensor(gatherStrided(flat, 0, shape, strides), shape, type);
}

export function encodeNpy(t: Tensor<Float32Array | BigInt64Array>): Uint8Array {
  if (t.data.length !== numel(t.shape)) {
    throw new Error(`encodeNpy: ${t.data.length} values do not fill shape ${shapeString(t.shape)}`);
  }
  const descr = t.data instanceof Float32Array ? '<f4' : '<i8';
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // NumPy pads the header with spaces and a newline so the data starts on a 64-byte boundary.
  const useV2 = dict.length + 1 + 10 > 0xffff;
  const prefixLength = useV2 ? 12 : 10;
  const padded = dict.padEnd(Math.ceil((prefixLength + dict.length + 1) / 64) * 64 - prefixLength - 1, ' ') + '\n';
  const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Uint8Array(prefixLength + padded.length + data.length);
  out.set(MAGIC, 0);
  out[6] = useV2 ? 2 : 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (useV2) view.setUint32(8, padded.length, true);
  else view.setUint16(8, padded.length, true);
  out.set(new TextEncoder().encode(padded), prefixLength);
  out.set(data, prefixLength + padded.length);
  return out;
}

export async function writeNpy(path: string, t: Tensor<Float32Array | BigInt64Array>): Promise<void> {
  await writeFileAtomic(path, encodeNpy(t));
}

/**
 * Reads the header, a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 64), }`, with a tiny literal parser
 * (never an evaluator).
 */
/** A literal at the parser's position (sticky: matching there costs nothing for the text after it). */
const WORD = /True|False|\d+L?/y;

function parseHeader(text: string, name: string): NpyHeader {
  let pos = 0;
  const fail = (what: string): never => {
    // Real headers are about a hundred characters; a corrupt one can be as long as the file.
    const shown = text.trim().length > 200 ? `${text.trim().slice(0, 200)}…` : text.trim();
    throw new CheckpointError(name, `corrupt .npy header (${what}): ${JSON.stringify(shown)}`);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const expect = (ch: string) => {
    skipSpace();
    if (text[pos] !== ch) fail(`expected '${ch}' at ${pos}`);
    pos++;
  };
  const parseValue = (): unknown => {
    skipSpace();
    const ch = text[pos];
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, pos + 1);
      if (end < 0) fail('unterminated string');
      const value = text.slice(pos + 1, end);
      pos = end + 1;
      return value;
    }
    if (ch === '(') {
      pos++;
      const items: unknown[] = [];
      for (;;) {
        skipSpace();
        if (text[pos] === ')') break;
        // Shapes are flat: nested tuples are refused rather than parsed recursively without bound.
        if (text[pos] === '(') fail(`nested tuple at ${pos}`);
        items.push(parseValue());
        skipSpace();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== ')') fail(`expected ',' or ')' at ${pos}`);
      }
      pos++;
      return items;
    }
    WORD.lastIndex = pos;
    const word = WORD.exec(text);
    if (word === null) return fail(`unexpected text at ${pos}`);
    pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    return Number.parseInt(word[0], 10);
  };

  const entries = new Map<string, unknown>();
  expect('{');
  for (;;) {
    skipSpace();
    if (text[pos] === '}') break;
    const key = parseValue();
    if (typeof key !== 'string') fail('dict key is not a string');
    expect(':');
    entries.set(key as string, parseValue());
    skipSpace();
    if (text[pos] === ',') pos++;
    else if (text[pos] !== '}') fail(`expected ',' or '}' at ${pos}`);
  }
  const descr = entries.get('descr');
  const fortranOrder = entries.get('fortran_order');
  const shape = entries.get('shape');
  if (typeof descr !== 'string') return fail('descr is missing or not a simple dtype');
  if (typeof fortranOrder !== 'boolean') return fail('fortran_order is missing');
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) return fail('shape is missing');
  return { descr, fortranOrder, shape: shape as number[] };
}

/** Whether a file starts with the .npy magic: files are told apart by content, not by name. */
export function isNpyFile(path: string): boolean {
  const head = withFileSource(path, (source) => source.read(0, MAGIC.length));
  return MAGIC.every((b, i) => head[i] === b);
}
