/**
 * W files through `generate --w`: one W+ [L, D] is one image (never L images), NVIDIA's projected_w.npz is
 * read by its key "w", and the command says which it read. Checked against sg2-tiny-a's golden images.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Tensor } from '../src/core/tensor.js';
import { readWFile, writeProjectedW } from '../src/generators/w-file.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { NpzWriter } from '../src/io/npz.js';
import { runCli } from './helpers/cli.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';

const SG2 = `${GOLDENS}sg2-tiny-a/`;
const L = 8;
const D = 64;

let dir: string;
let wPlusOfRow1: Float32Array;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-wfile-'));
  const w = await golden('sg2-tiny-a', 'w.npy');
  wPlusOfRow1 = new Float32Array(L * D);
  for (let l = 0; l < L; l++) wPlusOfRow1.set(w.data.subarray(D, 2 * D), l * D);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Image 1 of img_t1 (synthesis of w row 1, const noise). */
async function image1(): Promise<Tensor> {
  const all = await golden('sg2-tiny-a', 'img_t1.npy');
  const n = 3 * 32 * 32;
  return { data: all.data.slice(n, 2 * n), shape: [1, 3, 32, 32] };
}

describe('generate --w', { concurrency: true }, () => {
  const generates = (name: string, write: (path: string) => Promise<void> | void, file: string, said: RegExp) =>
    test(name, async () => {
      const path = join(dir, file);
      await write(path);
      const out = join(dir, `${file}.images.npy`);
      const r = await runCli(['generate', '--model', `${SG2}ckpt.pt`, '--w', path, '--npy', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, said);
      assertClose((await readNpy(out)) as Tensor, await image1(), 1e-4, name);
    });

  generates('a [L, D] .npy is one W+ image', (p) => writeNpy(p, { data: wPlusOfRow1, shape: [L, D] }), 'one.npy', /read W\+ \[8, 64\] \(one image\) from .*one\.npy/);
  generates(
    "NVIDIA's projected_w.npz (w [1, L, D])",
    (p) => writeProjectedW(p, { data: wPlusOfRow1, shape: [1, L, D] }),
    'projected_w.npz',
    /read W\+ \[1, 8, 64\] \(1 image\) from .*projected_w\.npz key "w"/,
  );

  test('an .npz without "w", and a shape that fits nothing, are one-line errors naming the file', async () => {
    const other = join(dir, 'other.npz');
    const writer = new NpzWriter(other);
    writer.add('latents', { data: wPlusOfRow1, shape: [1, L, D] });
    writer.close();
    const r = await runCli(['generate', '--model', `${SG2}ckpt.pt`, '--w', other, '--npy', join(dir, 'x.npy')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ganvec: --w .*other\.npz has no array "w" \(it holds "latents"\)/m);
    const odd = join(dir, 'odd.npy');
    await writeNpy(odd, { data: wPlusOfRow1, shape: [2, 4, D] });
    const s = await runCli(['generate', '--model', `${SG2}ckpt.pt`, '--w', odd, '--npy', join(dir, 'x.npy')]);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /odd\.npy has shape \[2, 4, 64\]; this generator takes W \[N, 64\], W\+ \[N, 8, 64\] or one W\+ \[8, 64\]/);
    assert.equal(s.stderr.trimEnd().split('\n').length, 1);
  });
});

test('readWFile: W rows stay W rows unless they number L', async () => {
  const path = join(dir, 'w3.npy');
  await writeNpy(path, { data: wPlusOfRow1.subarray(0, 3 * D), shape: [3, D] });
  const w = await readWFile(path, L, D);
  assert.deepEqual(w.rows.shape, [3, D]);
  assert.match(w.read, /^W \[3, 64\] \(3 images\)/);
  const round = join(dir, 'round.npz');
  writeProjectedW(round, { data: wPlusOfRow1, shape: [1, L, D] });
  assert.deepEqual((await readWFile(round, L, D)).rows.data, wPlusOfRow1);
});
