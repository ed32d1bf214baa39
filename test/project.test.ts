/**
 * Projection (projector.py's optimisation) on the tiny fixture generator: an image generated from a known
 * W is projected back and must be reproduced at a high PSNR (item 5 of issue 17), and `ganvec project`
 * writes NVIDIA's projected_w.npz that `generate --w` reads back into the same image.
 *
 * The PSNR check uses a hand-set LPIPS whose VGG passes pixels through (each colour as relu(±0.2·x) plus a
 * constant channel, identity convolutions after), so the distance is a multi-scale pixel distance and a
 * working optimiser must recover the image; the random tiny VGG of goldens/lpips-tiny-a is a parity fixture,
 * not a perceptual metric, and would not say whether the optimiser works.
 *
 * --save-video (projector.py's proj.mp4) is decoded with Debian's ffmpeg: a frame per step, each the target
 * beside that step's W drawn with the final noise maps.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { Tensor } from '../src/core/tensor.js';
import { readWFile } from '../src/generators/w-file.js';
import { imageToRgb8, writeImagePng } from '../src/io/image.js';
import { readNpy } from '../src/io/npy.js';
import type { LpipsWeights } from '../src/perceptual/lpips.js';
import { project } from '../src/projection/projector.js';
import { loadGenerator } from '../src/registry/load.js';
import { renderProjectionVideo } from '../src/video/projection.js';
import { runCli } from './helpers/cli.js';
import { decodeRgb, probe } from './helpers/decode-video.js';
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
  const g = await runCli(['generate', '--model', `${SG2}ckpt.pt`, '--w', join(out, 'projected_w.npz'), '--outdir', again]);
  assert.equal(g.code, 0, g.stderr);
  const pixels = async (p: string) => (await sharp(p).raw().toBuffer());
  assert.deepEqual(await pixels(join(again, 'img0000.png')), await pixels(join(out, 'proj.png')));
  assert.deepEqual(await pixels(join(out, 'target.png')), await pixels(targetPng));
});

/**
 * Mean |Y(a) − Y(b)| over the pixels of two RGB images, Y the BT.601 luma: H.264 keeps luma at full
 * resolution, while yuv420p halves the chroma, which on the tiny generator's noise-like 32 px images is
 * most of the coding error.
 */
function meanLumaDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  const luma = (x: Uint8Array, p: number) => 0.299 * x[3 * p]! + 0.587 * x[3 * p + 1]! + 0.114 * x[3 * p + 2]!;
  let sum = 0;
  for (let p = 0; p < a.length / 3; p++) sum += Math.abs(luma(a, p) - luma(b, p));
  return sum / (a.length / 3);
}

test('the projection video: frame i is the target beside step i\'s W drawn with the final noise maps', async () => {
  const G = await loadGenerator(`${SG2}ckpt.pt`, { download: false });
  try {
    const w = await golden('sg2-tiny-a', 'w.npy');
    const target = await G.synthesize({ w: { data: w.data.slice(64, 128), shape: [1, 64] } });
    const stepWs: Float32Array[] = [];
    const r = await project(G, target, pixelPassingLpips(), { steps: 5, wAvgSamples: 1000, seed: 0, onStep: (s) => stepWs.push(s.w) });
    const out = join(dir, 'steps.mp4');
    assert.deepEqual(await renderProjectionVideo(G, target, stepWs, r.noise, out), { width: 64, height: 32, frames: 5 });
    assert.deepEqual(await probe(out), { codec: 'h264', width: 64, height: 32, frames: 5, fps: '10/1' });
    const frames = await decodeRgb(out);
    assert.equal(frames.length, 5 * 64 * 32 * 3);
    const half = (f: number, side: 0 | 1) => Buffer.concat(Array.from({ length: 32 }, (_, y) => frames.subarray((f * 32 + y) * 64 * 3 + side * 32 * 3, (f * 32 + y) * 64 * 3 + (side + 1) * 32 * 3)));
    const targetRgb = imageToRgb8(target, 0);
    const drawn = async (ws: Float32Array, noiseMaps?: typeof r.noise) => imageToRgb8(await G.synthesize({ w: { data: ws, shape: [1, 64] }, noiseMaps }), 0);
    // Measured luma errors of the coding: about 2 levels of 255 on both halves; a wrong picture is 8 or more.
    for (let f = 0; f < 5; f++) {
      const left = meanLumaDiff(half(f, 0), targetRgb);
      assert.ok(left < 4, `frame ${f}: the left half is the target (${left.toFixed(2)})`);
      const own = meanLumaDiff(half(f, 1), await drawn(stepWs[f]!, r.noise));
      assert.ok(own < 4, `frame ${f}: the right half is step ${f + 1}'s W with the optimised noise maps (${own.toFixed(2)})`);
    }
    // Not the generator's stored noise maps, and not the same W in every frame.
    const stored = meanLumaDiff(half(4, 1), await drawn(stepWs[4]!));
    const first = meanLumaDiff(half(4, 1), await drawn(stepWs[0]!, r.noise));
    assert.ok(stored > 8 && first > 8, `the last frame against the stored noise ${stored.toFixed(2)}, against the first step ${first.toFixed(2)}`);
    const [name, map] = Object.entries(r.noise)[0]!;
    await assert.rejects(G.synthesize({ w: { data: stepWs[0]!, shape: [1, 64] }, noiseMaps: { ...r.noise, [name]: { data: map.data, shape: [map.data.length] } } }),
      new RegExp(`noise map ${name} must be \\[${map.shape.join(', ')}\\], got \\[${map.data.length}\\]`));
  } finally {
    await G.release();
  }
});

test('ganvec project --save-video writes a frame per step, 64×32 (target | step); without ffmpeg it says so before projecting', async () => {
  const G = await loadGenerator(`${SG2}ckpt.pt`, { download: false });
  const w = await golden('sg2-tiny-a', 'w.npy');
  const targetPng = join(dir, 'video-target.png');
  await writeImagePng(targetPng, await G.synthesize({ w: { data: w.data.slice(128, 192), shape: [1, 64] } }), 0);
  await G.release();
  const video = join(dir, 'proj.mp4');
  const args = ['project', targetPng, '--model', `${SG2}ckpt.pt`, '--steps', '4', '--lpips-trunk', `${LPIPS}vgg16.pth`, '--lpips-lin', `${LPIPS}lpips_vgg.pth`, '--outdir', join(dir, 'with-video'), '--save-video', video];
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wrote the projection video .*proj\.mp4: 4 frames of 64×32 \(target \| each step's W\) at 10 fps/);
  assert.deepEqual(await probe(video), { codec: 'h264', width: 64, height: 32, frames: 4, fps: '10/1' });

  for (const [env, expected] of [
    [{ PATH: '/nonexistent' }, /^ganvec: writing a video needs ffmpeg, which is not on the PATH: install it \(Debian\/Ubuntu: apt-get install ffmpeg\)/],
    [{ GANVEC_FFMPEG: '/nonexistent/ffmpeg' }, /^ganvec: GANVEC_FFMPEG \/nonexistent\/ffmpeg is not an executable file/],
  ] as const) {
    const failed = await runCli(args, { env });
    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(failed.stderr.trimEnd().split('\n').length, 1, `a one-line error, before any step:\n${failed.stderr}`);
    assert.match(failed.stderr, expected);
  }
  const unknown = await runCli([...args.slice(0, -1), join(dir, 'proj.avi')]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /--save-video .*proj\.avi: the format comes from the extension, one of \.mp4, \.gif, \.webp/);
});
