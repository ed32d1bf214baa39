import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { CheckpointError } from '../src/io/errors.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { PickleBuilder } from './fixtures/io/build-pickle.js';

const IO = (name: string) => fileURLToPath(new URL(`./fixtures/io/${name}`, import.meta.url));
const GOLDEN = (name: string) => fileURLToPath(new URL(`./fixtures/goldens/${name}`, import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ganvec-io-checkpoint-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function scratchFile(name: string, contents: Uint8Array | string): string {
  const path = join(scratch, name);
  writeFileSync(path, contents);
  return path;
}

test('every format is recognised by its content and flattened to dotted names', async () => {
  const rosinality = await readCheckpoint(GOLDEN('sg2-tiny-a/ckpt.pt'));
  assert.equal(rosinality.format, 'torch-zip');
  assert.ok(rosinality.tensors.has('g_ema.conv1.conv.weight'));
  assert.ok(rosinality.tensors.has('latent_avg'));

  assert.equal((await readCheckpoint(IO('tensors-legacy.pt'))).format, 'torch-legacy');

  const clip = await readCheckpoint(GOLDEN('clip-tiny-a/clip_jit.pt'));
  assert.equal(clip.format, 'torchscript');
  assert.ok(clip.tensors.has('visual.conv1.weight'));

  const nvidia = await readCheckpoint(GOLDEN('sg2ada-tiny-a/network-snapshot.pkl'));
  assert.equal(nvidia.format, 'nvidia-pkl');
  assert.equal(nvidia.networks?.G_ema.className, 'Generator');
  assert.deepEqual(nvidia.tensors.get('G_ema.mapping.w_avg')?.shape, [64]);
  assert.deepEqual(nvidia.tensors.get('G_ema.mapping.w_avg')?.data, nvidia.networks?.G_ema.tensors.get('mapping.w_avg')?.data);

  // Named like a .pt, but a safetensors file: the name does not matter.
  const path = join(scratch, 'renamed.pt');
  await writeSafetensors(path, { w: { data: Float32Array.of(1, 2), shape: [2] } }, { note: 'hi' });
  const safetensors = await readCheckpoint(path);
  assert.equal(safetensors.format, 'safetensors');
  assert.deepEqual(safetensors.metadata, { note: 'hi' });
  assert.deepEqual([...safetensors.tensors.get('w')!.data], [1, 2]);
});

test('files that are not checkpoints are errors naming the file and saying what it looks like', async () => {
  const cases: [string, Uint8Array | string, RegExp][] = [
    ['page.pt', '<!DOCTYPE html>\n<html><head><title>Google Drive</title></head></html>', /HTML page/],
    ['page2.pkl', '\ufeff  <html lang="en"><body>Sign in</body></html>', /HTML page/],
    ['lfs.pt', 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n', /Git LFS pointer/],
    ['error.pt', '<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', /XML document/],
    ['empty.pt', '', /the file is empty/],
    ['random.pt', Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6), /unrecognised format \(first bytes de ad be ef 01 02 03 04\)/],
    ['array.pt', readFileSync(IO('i4.npy')), /NumPy \.npy array/],
  ];
  for (const [name, contents, problem] of cases) {
    const path = scratchFile(name, contents);
    await assert.rejects(
      readCheckpoint(path),
      (err: unknown) => err instanceof CheckpointError && err.file === path && err.message.startsWith(`${path}: not a checkpoint: `) && problem.test(err.message),
      name,
    );
  }
});

test('truncated zip and pickle checkpoints are errors naming the file', async () => {
  const zip = readFileSync(GOLDEN('sg2-tiny-a/ckpt.pt'));
  const zipPath = scratchFile('cut.pt', zip.subarray(0, 100_000));
  await assert.rejects(readCheckpoint(zipPath), (err: unknown) => err instanceof CheckpointError && err.file === zipPath && /truncated/.test(err.message));

  const pkl = readFileSync(GOLDEN('sg2ada-tiny-a/network-snapshot.pkl'));
  const pklPath = scratchFile('cut.pkl', pkl.subarray(0, 50_000));
  await assert.rejects(readCheckpoint(pklPath), (err: unknown) => err instanceof CheckpointError && err.file === pklPath && /truncated/.test(err.message));
});

test('a pickle checkpoint that calls os.system is refused', async () => {
  const evil = new PickleBuilder().proto().emptyDict().mark().str('G');
  evil.global('os', 'system').str('touch /tmp/owned').raw(0x85 /* TUPLE1 */).reduce().setItems().stop();
  const path = scratchFile('evil.pkl', evil.bytes());
  await assert.rejects(readCheckpoint(path), (err: unknown) => err instanceof CheckpointError && err.file === path && err.message.includes('calls os.system'));
});
