import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CheckpointError } from '../src/io/errors.js';
import { encodeSafetensors, parseSafetensors, readSafetensors, writeSafetensors } from '../src/io/safetensors.js';

const scratch = mkdtempSync(join(tmpdir(), 'ganvec-io-safetensors-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A safetensors file from a header object and raw data bytes, as another writer would produce it. */
function safetensorsBytes(header: unknown, data: number[] = [], headerText = JSON.stringify(header)): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('write then read float32 tensors and metadata; the file is 8-byte aligned and atomic', async () => {
  const path = join(scratch, 'domain.dv.safetensors');
  const tensors = new Map([
    ['conv1', { data: Float32Array.of(1, -2, 3.5), shape: [3] }],
    ['convs.0', { data: Float32Array.from({ length: 6 }, (_, i) => i / 7), shape: [2, 3] }],
  ]);
  const metadata = { format: 'ganvec-domain', version: '1', prompt: 'pixar ✓' };
  await writeSafetensors(path, tensors, metadata);
  assert.deepEqual(readdirSync(scratch), ['domain.dv.safetensors'], 'no temporary file is left behind');
  const back = await readSafetensors(path);
  assert.deepEqual(back.metadata, metadata);
  assert.deepEqual([...back.tensors.keys()], ['conv1', 'convs.0']);
  for (const [name, t] of tensors) {
    assert.deepEqual(back.tensors.get(name)!.shape, t.shape);
    assert.deepEqual(back.tensors.get(name)!.data, t.data);
  }
  const bytes = encodeSafetensors(tensors, metadata);
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0);
});

test('reads F16, BF16, F64, I64, I32, U8, I8 and BOOL tensors', () => {
  const bytes: number[] = [];
  const entry = (dtype: string, shape: number[], data: number[]) => {
    const begin = bytes.length;
    bytes.push(...data);
    return { dtype, shape, data_offsets: [begin, bytes.length] };
  };
  const f64 = new Uint8Array(Float64Array.of(0.25, -1e-3).buffer);
  const i64 = new Uint8Array(BigInt64Array.of(-5n, 2n ** 50n).buffer);
  const i32 = new Uint8Array(Int32Array.of(-7, 9).buffer);
  const header = {
    __metadata__: { source: 'hand-made' },
    f16: entry('F16', [2], [0x00, 0x3c, 0x00, 0xc0]), // 1.0, -2.0
    bf16: entry('BF16', [2], [0x80, 0x3f, 0x40, 0xc0]), // 1.0, -3.0
    f64: entry('F64', [2], [...f64]),
    i64: entry('I64', [2], [...i64]),
    i32: entry('I32', [1, 2], [...i32]),
    u8: entry('U8', [3], [0, 7, 255]),
    i8: entry('I8', [2], [0xff, 0x80]),
    bool: entry('BOOL', [2], [1, 0]),
  };
  const { tensors, metadata } = parseSafetensors(safetensorsBytes(header, bytes), 'typed.safetensors');
  assert.deepEqual(metadata, { source: 'hand-made' });
  const values = (name: string) => [...tensors.get(name)!.data];
  assert.deepEqual(values('f16'), [1, -2]);
  assert.deepEqual(values('bf16'), [1, -3]);
  assert.deepEqual(values('f64'), [0.25, Math.fround(-1e-3)]);
  assert.deepEqual(values('i64'), [-5n, 2n ** 50n]);
  assert.deepEqual(values('i32'), [-7, 9]);
  assert.deepEqual(tensors.get('i32')!.shape, [1, 2]);
  assert.deepEqual(values('u8'), [0, 7, 255]);
  assert.deepEqual(values('i8'), [-1, -128]);
  assert.deepEqual(values('bool'), [1, 0]);
  assert.equal(tensors.get('f16')!.storedAs, 'float16');
});

test('malformed headers and offsets are errors naming the file and the problem', () => {
  const f32 = (offsets: number[], shape = [2]) => ({ dtype: 'F32', shape, data_offsets: offsets });
  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', Uint8Array.of(1, 2, 3), /not even a header length/],
    ['header past the end', (() => { const b = safetensorsBytes({}); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; })(), /header length 1000 runs past the end/],
    ['bad JSON', safetensorsBytes(null, [], '{"a": '), /header is not valid JSON/],
    ['not an object', safetensorsBytes([1, 2]), /header is not a JSON object/],
    ['metadata not strings', safetensorsBytes({ __metadata__: { n: 1 } }), /__metadata__\.n is not a string/],
    ['unknown dtype', safetensorsBytes({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Array(8).fill(0)), /unsupported dtype "C64"/],
    ['end before begin', safetensorsBytes({ x: f32([8, 0]) }, new Array(8).fill(0)), /end before they begin/],
    ['past the data', safetensorsBytes({ x: f32([0, 8]) }, new Array(4).fill(0)), /past the end of the 4-byte data section/],
    ['wrong length', safetensorsBytes({ x: f32([0, 4]) }, new Array(8).fill(0)), /should take 8 bytes but its offsets span 4/],
    ['overlap', safetensorsBytes({ a: f32([0, 8]), b: f32([4, 12]) }, new Array(12).fill(0)), /tensors a and b overlap/],
    ['bad shape', safetensorsBytes({ x: f32([0, 8], [-2]) }, new Array(8).fill(0)), /malformed shape/],
  ];
  for (const [what, bytes, problem] of cases) {
    assert.throws(
      () => parseSafetensors(bytes, 'bad.safetensors'),
      (err: unknown) => err instanceof CheckpointError && err.message.startsWith('bad.safetensors: safetensors: ') && problem.test(err.message),
      what,
    );
  }
});
