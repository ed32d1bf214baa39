import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CheckpointError } from '../src/io/errors.js';
import { parseNvidiaPickle } from '../src/io/nvidia-pkl.js';
import type { LoadedTensor } from '../src/io/storage.js';
import { flattenTensors } from '../src/io/tensor-tree.js';
import { parseTorchLegacy, readTorchLegacy, readTorchZip } from '../src/io/torch.js';
import { PickleBuilder, legacyTorchSave, tensorDict, type TensorSpec } from './fixtures/io/build-pickle.js';
import { torchZip, type ZipEntrySpec } from './fixtures/io/build-zip.js';

const IO = (name: string) => fileURLToPath(new URL(`./fixtures/io/${name}`, import.meta.url));
const GOLDEN = (name: string) => fileURLToPath(new URL(`./fixtures/goldens/${name}`, import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ganvec-io-torch-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** What test/fixtures/io/tensors-*.pt hold (see the README there): name → [element type, shape, values]. */
const TENSORS: Record<string, [string, number[], (number | bigint)[]]> = {
  f32: ['float32', [3, 4], [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5]],
  f16: ['float16', [2, 3], [0, 0.25, 0.5, 0.75, 1, 1.25]],
  // 0 × -0.5 is -0 in torch too.
  bf16: ['bfloat16', [6], [-0, -0.5, -1, -1.5, -2, -2.5]],
  f64: ['float64', [4], [0, 1 / 3, 2 / 3, 1].map(Math.fround)],
  i64: ['int64', [4], [-3n, 0n, 2n ** 40n, 7n]],
  i32: ['int32', [3], [-5, 6, 7]],
  u8: ['uint8', [3], [0, 128, 255]],
  i8: ['int8', [3], [-128, -1, 127]],
  bool: ['bool', [3], [1, 0, 1]],
  // arange(12).reshape(3, 4).t(): element [i][j] is j * 4 + i.
  transposed: ['float32', [4, 3], [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]],
  // arange(24).reshape(2, 3, 4).permute(2, 0, 1): element [a][b][c] is b * 12 + c * 4 + a.
  permuted: ['float32', [4, 2, 3], [0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23]],
  // Views into one storage holding 100..109: [2:5] and [5:10:2].
  view_a: ['float32', [3], [102, 103, 104]],
  view_b: ['float32', [3], [105, 107, 109]],
  param: ['float32', [2], [1.5, -2.5]],
  scalar: ['float32', [], [3.25]],
  empty: ['float32', [0, 3], []],
  'nested.inner.t': ['float32', [2], [1, 2]],
  'nested.list.0': ['float32', [1], [3]],
  'nested.list.1': ['float32', [1], [4]],
};

function checkTensors(tensors: Map<string, LoadedTensor>, file: string): void {
  assert.deepEqual([...tensors.keys()], Object.keys(TENSORS), file);
  for (const [name, [type, shape, values]] of Object.entries(TENSORS)) {
    const t = tensors.get(name)!;
    assert.equal(t.storedAs, type, `${file} ${name} type`);
    assert.deepEqual(t.shape, shape, `${file} ${name} shape`);
    assert.deepEqual([...t.data], values, `${file} ${name} values`);
    if (['float32', 'float16', 'bfloat16', 'float64'].includes(type)) {
      assert.ok(t.data instanceof Float32Array, `${file} ${name} is float32 on the host`);
    }
  }
}

for (const file of ['tensors-zip.pt', 'tensors-deflated.pt', 'tensors-zip64.pt']) {
  test(`torch.save zip: ${file} gives every dtype, view and nesting`, async () => {
    const { format, root } = await readTorchZip(IO(file));
    assert.equal(format, 'torch-zip');
    checkTensors(flattenTensors(root), file);
    const data = root as Map<string, unknown>;
    assert.equal(data.get('step'), 1234);
    assert.equal(data.get('name'), 'tiny');
  });
}

test('legacy torch.save (pre-1.6 format) gives the same tensors', async () => {
  checkTensors(flattenTensors(await readTorchLegacy(IO('tensors-legacy.pt'))), 'tensors-legacy.pt');
});

test('a tensor subclass (_rebuild_from_type_v2) reads as its plain tensor', async () => {
  const tensors = flattenTensors((await readTorchZip(IO('tensor-subclass.pt'))).root);
  assert.deepEqual([...tensors.keys()], ['tagged']);
  assert.deepEqual([...tensors.get('tagged')!.data], [0, 1, 2]);
});

test('strided and offset views materialise to the same values as contiguous storage (sg2-tiny-a)', async () => {
  const plain = flattenTensors((await readTorchZip(GOLDEN('sg2-tiny-a/ckpt.pt'))).root);
  const strided = flattenTensors((await readTorchZip(GOLDEN('sg2-tiny-a/ckpt_strided.pt'))).root);
  assert.equal(plain.size, 74);
  assert.deepEqual([...strided.keys()], [...plain.keys()]);
  for (const [name, t] of plain) {
    assert.deepEqual(strided.get(name)!.shape, t.shape, name);
    assert.deepEqual(strided.get(name)!.data, t.data, name);
  }
  assert.deepEqual(plain.get('g_ema.convs.0.conv.weight')!.shape, [1, 32, 32, 3, 3]);
  assert.deepEqual(plain.get('latent_avg')!.shape, [64]);
});

test('a tensor whose view runs past its storage is an error naming the file', () => {
  const bytes = legacyTorchSave({ name: 'w', storageNumel: 4, offset: 0, size: [3, 4], stride: [4, 1], data: new Float32Array(4) });
  assert.throws(
    () => parseTorchLegacy(bytes, 'overrun.pt'),
    (err: unknown) => err instanceof CheckpointError && /^overrun\.pt: .*needs 12 elements but its storage 0 has 4/.test(err.message),
  );
  // The same stream with a valid view reads fine, so the builder itself is sound.
  const ok = legacyTorchSave({ name: 'w', storageNumel: 4, offset: 1, size: [3], stride: [1], data: Float32Array.of(1, 2, 3, 4) });
  assert.deepEqual([...(flattenTensors(parseTorchLegacy(ok, 'ok.pt')).get('w')!.data)], [2, 3, 4]);
});

test('legacy format: a storage key that is not a string is an error naming the file, however deeply nested', () => {
  const spec = { name: 'w', storageNumel: 1, offset: 0, size: [1], stride: [1], data: new Float32Array(1) };
  for (const nestedKey of [1, 100_000]) {
    assert.throws(() => parseTorchLegacy(legacyTorchSave({ ...spec, nestedKey }), 'keys.pt'), /^CheckpointError: keys\.pt: storage key .* is not a string/);
  }
});

test('legacy format: wrong magic number and truncated storage data are errors naming the file', () => {
  const wrongMagic = legacyTorchSave({ name: 'w', storageNumel: 1, offset: 0, size: [1], stride: [1], data: new Float32Array(1), magic: 12345n });
  assert.throws(() => parseTorchLegacy(wrongMagic, 'magic.pt'), /^CheckpointError: magic\.pt: not a legacy torch\.save file \(wrong magic number\)/);
  const whole = legacyTorchSave({ name: 'w', storageNumel: 4, offset: 0, size: [4], stride: [1], data: new Float32Array(4) });
  assert.throws(() => parseTorchLegacy(whole.subarray(0, whole.length - 4), 'cut.pt'), /^CheckpointError: cut\.pt: storage 0 \(4 × float32\) needs 16 bytes but the file has 12/);
  assert.throws(() => parseTorchLegacy(whole.subarray(0, whole.length - 20), 'cut.pt'), /^CheckpointError: cut\.pt: file ends before the data of storage 0 \(truncated\)/);
  const pickleCut = readFileSync(IO('tensors-legacy.pt')).subarray(0, 300);
  assert.throws(() => parseTorchLegacy(pickleCut, 'cut.pt'), /^CheckpointError: cut\.pt: pickle: .*truncated/);
});

test('zip: a truncated archive and an unsupported compression method are errors naming the file', async () => {
  const whole = readFileSync(IO('tensors-zip.pt'));
  const truncated = join(scratch, 'truncated.pt');
  writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
  await assert.rejects(readTorchZip(truncated), (err: unknown) => err instanceof CheckpointError && err.file === truncated && /truncated/.test(err.message));

  // Mark every central-directory entry as bzip2 (method 12).
  const bzip2 = Buffer.from(whole);
  for (let at = bzip2.indexOf('PK\x01\x02'); at >= 0; at = bzip2.indexOf('PK\x01\x02', at + 4)) bzip2.writeUInt16LE(12, at + 10);
  const bzip2Path = join(scratch, 'bzip2.pt');
  writeFileSync(bzip2Path, bzip2);
  await assert.rejects(readTorchZip(bzip2Path), /bzip2\.pt: zip entry .*data\.pkl uses compression method 12; only stored and deflate are supported/);
});

test('zip: a corrupted record fails its CRC check', async () => {
  const bytes = Buffer.from(readFileSync(IO('tensors-zip.pt')));
  // Flip a byte inside the first storage record (its data follows the local header of .../data/0).
  const header = bytes.indexOf('data/0');
  bytes[header + 200] ^= 0xff;
  const path = join(scratch, 'crc.pt');
  writeFileSync(path, bytes);
  await assert.rejects(readTorchZip(path), /crc\.pt: zip entry .* is corrupt \(CRC-32 mismatch\)/);
});

// Hostile files from the fuzzing pass of issue 11: every tensor is checked against its storage, every
// size in an archive against what the file can hold.

/** `{'w': tensor}` as a torch.save zip whose record `data/0` is `record` (stored) or a custom entry. */
function tensorZip(tensor: Omit<TensorSpec, 'name'>, record: Uint8Array | Omit<ZipEntrySpec, 'name'>): Uint8Array {
  return torchZip(tensorDict(new PickleBuilder().proto(), [{ name: 'w', ...tensor }]).stop().bytes(), { [tensor.key ?? '0']: record as ZipEntrySpec });
}

async function readZipBytes(bytes: Uint8Array, name: string): Promise<Map<string, LoadedTensor>> {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return flattenTensors((await readTorchZip(path)).root);
}

const floats4 = { storageNumel: 4, offset: 0, size: [4], stride: [1] };

test('the test zip builder writes archives the reader accepts', async () => {
  const tensors = await readZipBytes(tensorZip(floats4, new Uint8Array(Float32Array.of(1, 2, 3, 4).buffer)), 'ok.pt');
  assert.deepEqual([...tensors.get('w')!.data], [1, 2, 3, 4]);
  const deflated = await readZipBytes(tensorZip(floats4, { data: new Uint8Array(Float32Array.of(5, 6, 7, 8).buffer), deflate: true }), 'deflated.pt');
  assert.deepEqual([...deflated.get('w')!.data], [5, 6, 7, 8]);
});

test('zip bomb: a deflate entry is inflated only up to its declared size', async () => {
  // 64 MiB of zeros deflate to 64 KB; the directory says 16 bytes.
  const bomb = tensorZip(floats4, { data: new Uint8Array(2 ** 26), deflate: true, declaredSize: 16 });
  await assert.rejects(readZipBytes(bomb, 'bomb.pt'), /bomb\.pt: zip entry archive\/data\/0 inflates to more than the 16 bytes its directory declares/);
});

test('zip bomb: a declared size deflate cannot reach, or beyond what the file can plausibly need, is refused before inflating', async () => {
  const impossible = tensorZip(floats4, { data: new Uint8Array(2 ** 16), deflate: true, declaredSize: 0xfffffff0 });
  await assert.rejects(
    readZipBytes(impossible, 'ratio.pt'),
    /ratio\.pt: zip entry archive\/data\/0 declares 4294967280 bytes from \d+ compressed bytes, more than deflate can expand to/,
  );
  // 256 MiB of zeros, honestly declared, in a 260 KB file: possible for deflate, not for a checkpoint of 4 floats.
  const honest = tensorZip(floats4, { data: new Uint8Array(2 ** 28), deflate: true });
  await assert.rejects(readZipBytes(honest, 'budget.pt'), /budget\.pt: reading it would take more than \d+ MiB of memory/);
});

test('zip bomb inside an NVIDIA pickle: the nested torch.save blob is capped the same way', () => {
  const blob = tensorZip(floats4, { data: new Uint8Array(2 ** 26), deflate: true, declaredSize: 16 });
  const pickle = new PickleBuilder().proto().emptyDict().str('blob');
  pickle.global('torch.storage', '_load_from_bytes').binbytes(blob).raw(0x85 /* TUPLE1 */).reduce().raw(0x73 /* SETITEM */).stop();
  assert.throws(
    () => parseNvidiaPickle(pickle.bytes(), 'nested.pkl'),
    /^CheckpointError: nested\.pkl \(embedded torch\.save\): zip entry archive\/data\/0 inflates to more than the 16 bytes its directory declares/,
  );
});

test('a view may not repeat its storage more than a few times: 4,096 floats seen as [32768, 32768] with strides (0, 0)', () => {
  const bytes = legacyTorchSave({ name: 'w', storageNumel: 4096, offset: 0, size: [32768, 32768], stride: [0, 0], data: new Float32Array(4096) });
  assert.ok(bytes.length < 17_000);
  assert.throws(
    () => parseTorchLegacy(bytes, 'stride0.pt'),
    /^CheckpointError: stride0\.pt: a tensor of shape \[32768, 32768\] with strides \[0, 0\] has 1073741824 elements, more than 4 times the 4096 of its storage 0/,
  );
  // Repeating a storage is legal within that bound (torch saves expand()ed tensors with stride 0).
  const expanded = legacyTorchSave({ name: 'w', storageNumel: 2, offset: 0, size: [3, 2], stride: [0, 1], data: Float32Array.of(1, 2) });
  assert.deepEqual([...flattenTensors(parseTorchLegacy(expanded, 'expanded.pt')).get('w')!.data], [1, 2, 1, 2, 1, 2]);
});

test('many views of one storage may not add up to more memory than the file can plausibly need', () => {
  // 8,000 legal views, each the whole 16 KB storage transposed: 128 MB of copies from a 700 KB file.
  const extraViews = Array.from({ length: 8000 }, (_, i) => ({ name: `v${i}`, storageNumel: 4096, offset: 0, size: [64, 64], stride: [1, 64] }));
  const bytes = legacyTorchSave({ name: 'w', storageNumel: 4096, offset: 0, size: [64, 64], stride: [1, 64], data: new Float32Array(4096), extraViews });
  assert.throws(() => parseTorchLegacy(bytes, 'views.pt'), /^CheckpointError: views\.pt: reading it would take more than \d+ MiB of memory/);
});

test('impossible geometry is refused: NaN or negative offsets and sizes, fractional strides, bad storage sizes', () => {
  const cases: [Partial<TensorSpec>, RegExp][] = [
    [{ offset: NaN }, /a tensor's storage offset NaN is not a non-negative integer/],
    [{ offset: -1 }, /a tensor's storage offset -1 is not a non-negative integer/],
    [{ size: [-2, 2], stride: [2, 1] }, /a tensor's size \[-2, 2\] is not a list of non-negative integers/],
    [{ size: [NaN], stride: [1] }, /a tensor's size \[NaN\] is not a list of non-negative integers/],
    [{ size: [2], stride: [1.5] }, /a tensor's stride \[1\.5\] is not a list of non-negative integers/],
    [{ size: [2, 2], stride: [1] }, /a tensor's size \[2, 2\] and stride \[1\] differ in length/],
    [{ storageNumel: NaN }, /storage 0 declares NaN elements/],
    [{ storageNumel: -4 }, /storage 0 declares -4 elements/],
  ];
  for (const [change, problem] of cases) {
    const spec = { name: 'w', storageNumel: 4, offset: 0, size: [4], stride: [1], data: Float32Array.of(1, 2, 3, 4), ...change };
    assert.throws(
      () => parseTorchLegacy(legacyTorchSave(spec), 'geometry.pt'),
      (err: unknown) => err instanceof CheckpointError && err.message.startsWith('geometry.pt: ') && problem.test(err.message),
      problem.source,
    );
  }
});

test('a storage record relabelled to another dtype (record size ≠ elements × item size) is refused', async () => {
  // Four float32s (16 bytes) declared as a HalfStorage of 4 elements (8 bytes).
  const relabelled = tensorZip({ ...floats4, storageType: 'HalfStorage' }, new Uint8Array(Float32Array.of(1, 2, 3, 4).buffer));
  await assert.rejects(
    readZipBytes(relabelled, 'relabel.pt'),
    /relabel\.pt: record archive\/data\/0 has 16 bytes but storage 0 \(4 × float16\) takes 8/,
  );
});
