import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CheckpointError } from '../src/io/errors.js';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../src/io/npy.js';

const IO = (name: string) => fileURLToPath(new URL(`./fixtures/io/${name}`, import.meta.url));
const GOLDEN = (name: string) => fileURLToPath(new URL(`./fixtures/goldens/${name}`, import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ganvec-io-npy-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const HALVES = Array.from({ length: 24 }, (_, i) => i / 2);

test('reads NumPy-written arrays: versions 1.0/2.0/3.0, Fortran order, every supported dtype', async () => {
  for (const name of ['fortran-f4.npy', 'v2-f4.npy', 'v3-f4.npy']) {
    const t = await readNpy(IO(name));
    assert.deepEqual(t.shape, [2, 3, 4], name);
    assert.ok(t.data instanceof Float32Array, name);
    assert.deepEqual([...t.data], HALVES, name);
  }
  const f8 = await readNpy(IO('f8.npy'));
  assert.ok(f8.data instanceof Float32Array);
  assert.deepEqual([...f8.data], [0, 1, 2, 3, 4, 5].map((i) => Math.fround(i / 3)));
  assert.deepEqual([...(await readNpy(IO('i4.npy'))).data], [-7, 0, 2 ** 31 - 1]);
  const u1 = await readNpy(IO('u1.npy'));
  assert.ok(u1.data instanceof Uint8Array);
  assert.deepEqual([u1.shape, [...u1.data]], [[2, 2], [0, 1, 254, 255]]);
  assert.deepEqual([...(await readNpy(IO('b1.npy'))).data], [1, 0, 0, 1]);
  const scalar = await readNpy(IO('scalar-i8.npy'));
  assert.deepEqual([scalar.shape, [...scalar.data]], [[], [-42n]]);
  const tokens = await readNpy(GOLDEN('clip-tiny-a/tokens.npy'));
  assert.ok(tokens.data instanceof BigInt64Array);
  assert.deepEqual(tokens.shape, [8, 77]);
  assert.equal(tokens.data[0], 49406n);
});

test('encodeNpy writes exactly what NumPy writes; writeNpy round-trips float32 and int64', async () => {
  const golden = readFileSync(GOLDEN('sg2-tiny-a/z.npy'));
  const z = parseNpy(golden, 'z.npy');
  assert.deepEqual(Buffer.from(encodeNpy(z as { data: Float32Array; shape: number[] })), golden);

  const path = join(scratch, 'ids.npy');
  await writeNpy(path, { data: BigInt64Array.of(1n, -2n, 3n), shape: [3] });
  const back = await readNpy(path);
  assert.deepEqual([back.shape, [...back.data]], [[3], [1n, -2n, 3n]]);
  const scalarPath = join(scratch, 'scalar.npy');
  await writeNpy(scalarPath, { data: Float32Array.of(2.5), shape: [] });
  assert.deepEqual([...(await readNpy(scalarPath)).data], [2.5]);
});

test('corrupt .npy files are errors naming the file', () => {
  const good = encodeNpy({ data: Float32Array.of(1, 2, 3), shape: [3] });
  const withHeader = (header: string) => {
    const bytes = new Uint8Array(good);
    bytes.set(new TextEncoder().encode(header.padEnd(good.length - 10 - 12 - 1)), 10);
    return bytes;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['no magic', Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), /missing the \\x93NUMPY magic/],
    ['bad literal', withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3,}"), /corrupt \.npy header/],
    ['missing shape', withHeader("{'descr': '<f4', 'fortran_order': False}"), /corrupt \.npy header \(shape is missing\)/],
    ['big-endian', withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }"), /unsupported NumPy dtype '>f4'/],
    ['data too short', good.subarray(0, good.length - 1), /needs 12 bytes, only 11 are there/],
    ['header past the end', good.subarray(0, 40), /header claims \d+ bytes but the file ends first/],
  ];
  for (const [what, bytes, problem] of cases) {
    assert.throws(
      () => parseNpy(bytes, 'bad.npy'),
      (err: unknown) => err instanceof CheckpointError && err.message.startsWith('bad.npy: ') && problem.test(err.message),
      what,
    );
  }
});
