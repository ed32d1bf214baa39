/**
 * Projection (projector.py's optimisation) on the tiny fixture generator: an image generated from a known
 * W is projected back and must be reproduced at a high PSNR (item 5 of issue 17), and `ganvec project`
 * writes NVIDIA's projected_w.npz that `generate --w` reads back into the same image.
 *
 * The PSNR check uses a hand-set LPIPS whose VGG passes pixels through (each colour as relu(±0.2·x) plus a
 * constant channel, identity convolutions after), so the distance is a multi-scale pixel distance and a
 * working optimiser must recover the image; the random tiny VGG of goldens/lpips-tiny-a is a parity fixture,
 * not a perceptual metric, and would not say whether the optimiser works.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { Tensor } from '../src/core/tensor.js';
import { readWFile } from '../src/generators/w-file.js';
import { writeImagePng } from '../src/io/image.js';
import { readNpy } from '../src/io/npy.js';
import type { LpipsWeights } from '../src/perceptual/lpips.js';
import { project } from '../src/projection/projector.js';
import { loadGenerator } from '../src/registry/load.js';
import { runCli } from './helpers/cli.js';
import { golden, GOLDENS } from './helpers/golden.js';

const SG2 = `${GOLDENS}sg2-tiny-a/`;
const LPIPS = `${GOLDENS}lpips-tiny-a/`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-project-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function pixelPassingLpips(): LpipsWeights {
  const c = 7;
  const convs = Array.from({ length: 13 }, (_, k) => {
    const cin = k === 0 ? 3 : c;
    const weight = new Float32Array(c * cin * 9);
    const bias = new Float32Array(c);
    const centre = (o: number, i: number) => (o * cin + i) * 9 + 4;
    if (k === 0) {
      for (let ch = 0; ch < 3; ch++) {
        weight[centre(2 * ch, ch)] = 0.2;
        weight[centre(2 * ch + 1, ch)] = -0.2;
      }
      bias[6] = 1;
    } else {
      for (let ch = 0; ch < c; ch++) weight[centre(ch, ch)] = 1;
    }
    return { weight: { data: weight, shape: [c, cin, 3, 3] }, bias: { data: bias, shape: [1, c, 1, 1] } };
  });
  return { convs, lins: Array.from({ length: 5 }, () => ({ data: new Float32Array(c).fill(1), shape: [1, c, 1, 1] })) };
}

/** PSNR with the target's value range as the peak (the tiny generator's images span about [-1, 5.3]). */
function psnr(actual: Tensor, target: Tensor): number {
  let se = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < target.data.length; i++) {
    se += (actual.data[i]! - target.data[i]!) ** 2;
    lo = Math.min(lo, target.data[i]!);
    hi = Math.max(hi, target.data[i]!);
  }
  return 10 * Math.log10((hi - lo) ** 2 / (se / target.data.length));
}

test('projecting an image generated from a known W reproduces it (PSNR)', async () => {
  const G = await loadGenerator(`${SG2}ckpt.pt`, { download: false });
  try {
    const w = await golden('sg2-tiny-a', 'w.npy');
    const target = await G.synthesize({ w: { data: w.data.slice(64, 128), shape: [1, 64] } });
    const start = psnr(await G.synthesize({ w: { data: await G.wAvg(), shape: [1, 64] } }), target);
    const r = await project(G, target, pixelPassingLpips(), { steps: 300, wAvgSamples: 1000, seed: 0 });
    const fitted = psnr(r.image, target);
    const drawn = psnr(await G.synthesize({ w: r.ws }), target);
    // Measured: w_avg 15.2 dB; the fit (W and its noise maps) 24.5 dB; W with the stored noise 23.5 dB.
    assert.ok(start < 17, `w_avg alone gives ${start.toFixed(1)} dB`);
    assert.ok(fitted >= 22, `the projection's own image: ${fitted.toFixed(1)} dB < 22 dB`);
    assert.ok(drawn >= 21, `generate --w of the projection: ${drawn.toFixed(1)} dB < 21 dB`);
  } finally {
    await G.release();
  }
});

test('ganvec project writes projected_w.npz / .npy that generate --w draws as proj.png', async () => {
  const G = await loadGenerator(`${SG2}ckpt.pt`, { download: false });
  const w = await golden('sg2-tiny-a', 'w.npy');
  const targetPng = join(dir, 'target-in.png');
  await writeImagePng(targetPng, await G.synthesize({ w: { data: w.data.slice(0, 64), shape: [1, 64] } }), 0);
  await G.release();
  const out = join(dir, 'proj');
  const r = await runCli(['project', targetPng, '--model', `${SG2}ckpt.pt`, '--steps', '20', '--lpips-trunk', `${LPIPS}vgg16.pth`, '--lpips-lin', `${LPIPS}lpips_vgg.pth`, '--outdir', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /project, step 20\/20 {2}dist \d/);
  const npz = await readWFile(join(out, 'projected_w.npz'), 8, 64);
  assert.deepEqual(npz.rows.shape, [1, 8, 64]);
  const npy = await readNpy(join(out, 'projected_w.npy'));
  assert.deepEqual(npy.data, npz.rows.data);
  // Every W+ row is the same W, as projector.py returns it.
  for (let l = 1; l < 8; l++) assert.deepEqual(npz.rows.data.subarray(l * 64, l * 64 + 64), npz.rows.data.subarray(0, 64));
  const again = join(dir, 'again');
  const g = await runCli(['generate', '--model', `${SG2}ckpt.pt`, '--w', join(out, 'projected_w.npz'), '--out', again]);
  assert.equal(g.code, 0, g.stderr);
  const pixels = async (p: string) => (await sharp(p).raw().toBuffer());
  assert.deepEqual(await pixels(join(again, 'img0000.png')), await pixels(join(out, 'proj.png')));
  assert.deepEqual(await pixels(join(out, 'target.png')), await pixels(targetPng));
});
