import { numel, shapeString } from '../core/tensor.js';
import type { Tensor } from '../core/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { bytesSource, withFileSource } from './byte-source.js';
import type { ByteSource } from './byte-source.js';
import { CheckpointError } from './errors.js';
import { ITEM_SIZE, LoadedTensor, decodeElements } from './storage.js';
import type { ElementType } from './storage.js';

/**
 * safetensors files (Hugging Face weights, ganvec domain vectors): an 8-byte little-endian header length,
 * a JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`, then
 * the data section that the offsets index. Nothing in the file is executable, but every offset is checked
 * before it is used.
 */

const DTYPES: Record<string, ElementType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/** The reference implementation refuses headers above 100 MB; so do we, before allocating one. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsFile {
  /** Tensors in the order of their data in the file. */
  tensors: Map<string, LoadedTensor>;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  name: string;
  type: ElementType;
  shape: number[];
  begin: number;
  end: number;
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return withFileSource(path, (source) => readFromSource(source, path));
}

/** Decodes safetensors bytes; `name` is only used in error messages. */
export function parseSafetensors(bytes: Uint8Array, name: string): SafetensorsFile {
  return readFromSource(bytesSource(bytes), name);
}

function readFromSource(source: ByteSource, file: string): SafetensorsFile {
  const fail = (problem: string) => new CheckpointError(file, `safetensors: ${problem}`);
  if (source.size < 8) throw fail(`file has only ${source.size} bytes, not even a header length`);
  const lengthBytes = source.read(0, 8);
  const headerLength = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(source.size - 8) || headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${headerLength} runs past the end of the ${source.size}-byte file (truncated or not safetensors)`);
  }
  const dataStart = 8 + Number(headerLength);
  const { entries, metadata } = parseHeader(source.read(8, Number(headerLength)), source.size - dataStart, fail);
  const tensors = new Map<string, LoadedTensor>();
  for (const entry of entries) {
    const bytes = source.read(dataStart + entry.begin, entry.end - entry.begin);
    tensors.set(entry.name, new LoadedTensor(decodeElements(bytes, 0, numel(entry.shape), entry.type), entry.shape, entry.type));
  }
  return { tensors, metadata };
}

function parseHeader(
  headerBytes: Uint8Array,
  dataLength: number,
  fail: (problem: string) => CheckpointError,
): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw fail(`header is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isRecord(header)) throw fail('header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(value)) throw fail('__metadata__ is not an object');
      for (const [key, text] of Object.entries(value)) {
        if (typeof text !== 'string') throw fail(`__metadata__.${key} is not a string`);
        Object.defineProperty(metadata, key, { value: text, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (!isRecord(value)) throw fail(`entry ${name} is not an object`);
    const { dtype, shape, data_offsets: offsets } = value;
    const type = typeof dtype === 'string' ? DTYPES[dtype] : undefined;
    if (type === undefined) throw fail(`tensor ${name} has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw fail(`tensor ${name} has a malformed shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw fail(`tensor ${name} has malformed data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw fail(`tensor ${name} has data_offsets [${begin}, ${end}] that end before they begin`);
    if (end > dataLength) {
      throw fail(`tensor ${name} has data_offsets [${begin}, ${end}] past the end of the ${dataLength}-byte data section`);
    }
    const expected = numel(shape as number[]) * ITEM_SIZE[type];
    if (end - begin !== expected) {
      throw fail(
        `tensor ${name} (${dtype as string} ${shapeString(shape as number[])}) should take ${expected} bytes but its offsets span ${end - begin}`,
      );
    }
    entries.push({ name, type, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].begin < entries[i - 1].end) throw fail(`tensors ${entries[i - 1].name} and ${entries[i].name} overlap`);
  }
  return { entries, metadata };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Encodes float32 tensors (in the given order) and string metadata as a safetensors file. */
export function encodeSafetensors(
  tensors: Map<string, Tensor<Float32Array>> | Record<string, Tensor<Float32Array>>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  // No prototype, so that a tensor named '__proto__' is an ordinary key.
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (Object.keys(metadata).length > 0) {
    for (const [key, text] of Object.entries(metadata)) {
      if (typeof text !== 'string') throw new TypeError(`encodeSafetensors: metadata ${key} is not a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__' || name === '') throw new TypeError(`encodeSafetensors: invalid tensor name '${name}'`);
    if (!(t.data instanceof Float32Array) || t.data.length !== numel(t.shape)) {
      throw new TypeError(`encodeSafetensors: ${name} is not a float32 tensor filling shape ${shapeString(t.shape)}`);
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  // Pad the header with spaces so the data section starts 8-byte aligned, as the reference writer does.
  const text = JSON.stringify(header);
  const textBytes = new TextEncoder().encode(text).length;
  const json = new TextEncoder().encode(text + ' '.repeat((8 - (textBytes % 8)) % 8));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export async function writeSafetensors(
  path: string,
  tensors: Map<string, Tensor<Float32Array>> | Record<string, Tensor<Float32Array>>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
