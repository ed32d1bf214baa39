/**
 * CLIP preprocessing: the bicubic resize matrices against PyTorch's F.interpolate (fixtures/clip-resize),
 * the generator-image graph and its gradient, and photo decoding with sharp.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { grad } from '../src/engine/grad.js';
import { Graph } from '../src/engine/graph.js';
import { mul, sumAll } from '../src/engine/ops.js';
import { Session } from '../src/engine/session.js';
import type { Tensor } from '../src/core/tensor.js';
import { readNpy } from '../src/io/npy.js';
import {
  bicubicResizeMatrix, CLIP_MEAN, CLIP_STD, generatorImageToClip, loadPhotos, resizeCropMatrices,
} from '../src/clip/preprocess.js';
import { assertClose } from './helpers/golden.js';
import { Rng } from './helpers/random.js';

const FIXTURES = new URL('./fixtures/clip-resize/', import.meta.url).pathname;
const fixture = async (name: string) => (await readNpy(`${FIXTURES}${name}`)) as Tensor;

/** Rows @ x @ colsT per channel plane, in float64 on the host. */
function resizePlanes(x: Tensor, rows: Float32Array, colsT: Float32Array, outH: number, outW: number): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const out = new Float32Array(n * c * outH * outW);
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        let s = 0;
        for (let y = 0; y < h; y++) {
          const r = rows[i * h + y]!;
          if (r === 0) continue;
          for (let xx = 0; xx < w; xx++) s += r * x.data[(p * h + y) * w + xx]! * colsT[xx * outW + j]!;
        }
        out[(p * outH + i) * outW + j] = s;
      }
    }
  }
  return { data: out, shape: [n, c, outH, outW] };
}

function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j]!;
  return out;
}

describe('bicubic resize matrices (PyTorch F.interpolate, align_corners=False)', () => {
  for (const [name, outH, outW] of [['down', 8, 11], ['up', 16, 24]] as const) {
    it(`${name}scales a non-square image as PyTorch does`, async () => {
      const x = await fixture(`${name}_in.npy`);
      const [, , h, w] = x.shape as [number, number, number, number];
      const rows = bicubicResizeMatrix(h, outH);
      const colsT = transposed(bicubicResizeMatrix(w, outW), outW, w);
      assertClose(resizePlanes(x, rows, colsT, outH, outW), await fixture(`${name}_out.npy`), 1e-6, `${name}_out`);
    });
  }

  it('is the identity at equal sizes and keeps constants (rows sum to 1, edge taps clamped)', () => {
    const same = bicubicResizeMatrix(5, 5);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) assert.equal(same[i * 5 + j], i === j ? 1 : 0);
    for (const [from, to] of [[7, 3], [3, 7], [1024, 224], [224, 256]] as const) {
      const m = bicubicResizeMatrix(from, to);
      for (let i = 0; i < to; i++) {
        const sum = m.subarray(i * from, (i + 1) * from).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-6, `${from}→${to} row ${i} sums to ${sum}`);
      }
    }
  });

  it('resizes the short side and centre-crops as torchvision (int() long side, round-half-even offset)', () => {
    // 24x41 → 16x27, crop columns [6, 22): round(5.5) = 6. 24x39 → 16x26, crop [5, 21).
    for (const [w, start] of [[41, 6], [39, 5]] as const) {
      const { rows, colsT } = resizeCropMatrices(24, w, 16);
      assert.deepEqual(rows.data, bicubicResizeMatrix(24, 16));
      const full = bicubicResizeMatrix(w, Math.floor((16 * w) / 24));
      assert.deepEqual(colsT.data, transposed(full.subarray(start * w, (start + 16) * w), 16, w));
    }
  });
});

describe('generator images → CLIP input (graph)', () => {
  it('matches (x+1)/2, bicubic resize, centre crop and normalisation in PyTorch', async () => {
    const images = await fixture('gen_in.npy');
    const g = new Graph('preprocess');
    g.output('pixels', generatorImageToClip(g, g.input('images', images.shape), 16));
    const session = await Session.fromGraph(g, { threads: 1 });
    assertClose((await session.run({ images })).pixels!, await fixture('gen_clip.npy'), 1e-5, 'gen_clip');
    await session.release();
  });

  it('passes gradients back to the images: d/dx Σ(out·R) = Σ_c (0.5/std_c) Rhᵀ R_c Rw', async () => {
    const [n, h, w, res] = [2, 12, 20, 8];
    const rng = new Rng(7);
    const images: Tensor = { data: rng.rand([n, 3, h, w], -1, 1), shape: [n, 3, h, w] };
    const cot: Tensor = { data: rng.randn([n, 3, res, res]), shape: [n, 3, res, res] };
    const g = new Graph('preprocess_grad');
    const x = g.input('images', images.shape);
    const r = g.input('cot', cot.shape);
    g.output('dx', grad(sumAll(mul(generatorImageToClip(g, x, res), r)), [x])[0]!);
    const session = await Session.fromGraph(g, { threads: 1 });
    const { dx } = await session.run({ images, cot });
    await session.release();
    const { rows, colsT } = resizeCropMatrices(h, w, res);
    const scaled: Tensor = { data: cot.data.map((v, i) => (v * 0.5) / CLIP_STD[Math.floor(i / (res * res)) % 3]!), shape: cot.shape };
    // Rhᵀ [h, res] and Rw = colsTᵀ [res, w]: the adjoint resize.
    const expected = resizePlanes(scaled, transposed(rows.data, res, h), transposed(colsT.data, w, res), h, w);
    assertClose(dx!, expected, 1e-5, 'd images');
  });
});

describe('photos from disk (sharp)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ganvec-photos-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const pixel = (t: Tensor, img: number, y: number, x: number, res: number) =>
    [0, 1, 2].map((c) => Math.round((t.data[((img * 3 + c) * res + y) * res + x]! * CLIP_STD[c]! + CLIP_MEAN[c]!) * 255));

  it('turns images upright, flattens alpha onto white, gives grey 3 channels, and normalises', async () => {
    const res = 16;
    // 40x20 landscape: left half red, right half blue; EXIF orientation 6 means "rotate 90° clockwise to view".
    const halves = Buffer.alloc(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) halves.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
    const rotated = join(dir, 'rotated.jpg');
    await sharp(halves, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(rotated);
    const transparent = join(dir, 'transparent.png');
    await sharp({ create: { width: 24, height: 24, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toFile(transparent);
    const grey = join(dir, 'grey.png');
    await sharp({ create: { width: 30, height: 30, channels: 3, background: { r: 128, g: 128, b: 128 } } }).greyscale().png().toFile(grey);

    const t = await loadPhotos([rotated, transparent, grey], res);
    assert.deepEqual(t.shape, [3, 3, res, res]);
    // Upright, the red half is on top.
    const top = pixel(t, 0, 1, 8, res);
    const bottom = pixel(t, 0, 14, 8, res);
    assert.ok(top[0]! > 200 && top[2]! < 60, `top is red: ${top}`);
    assert.ok(bottom[2]! > 200 && bottom[0]! < 60, `bottom is blue: ${bottom}`);
    assert.deepEqual(pixel(t, 1, 5, 5, res), [255, 255, 255]);
    assert.deepEqual(pixel(t, 2, 5, 5, res), [128, 128, 128]);
  });
});
