/**
 * `ganvec generate` run as a user runs it: golden parity through the CLI (rosinality .pt and NVIDIA .pkl),
 * PNG outputs and their 8-bit conversion, a full-size config-f generator, and one-line errors.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { baseModelMetadata, writeDomainFile } from '../src/domains/domain-file.js';
import { imageToRgb8 } from '../src/io/image.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import type { Tensor } from '../src/core/tensor.js';
import { loadGenerator } from '../src/registry/load.js';
import { randomRosinalityStateDict } from '../src/generators/stylegan2/random-weights.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';
import { runCli, type CliResult } from './helpers/cli.js';

const SG2 = `${GOLDENS}sg2-tiny-a/`;
const ADA = `${GOLDENS}sg2ada-tiny-a/`;
const FORWARD = 1e-4;

const ganvec = (args: string[]) => runCli(args);

async function ok(args: string[]): Promise<CliResult> {
  const r = await ganvec(args);
  assert.equal(r.code, 0, `ganvec ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
}

/** A user mistake: exit code 1 and one line on stderr, no stack trace. */
async function failsWith(args: string[], expected: RegExp): Promise<void> {
  const r = await ganvec(args);
  assert.equal(r.code, 1, `expected exit code 1 from ganvec ${args.join(' ')}; stderr:\n${r.stderr}`);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `expected a one-line error, got:\n${r.stderr}`);
  assert.match(r.stderr, expected);
}

async function pngPixels(path: string): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3, `${path} is RGB`);
  return { width: info.width, height: info.height, data };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-generate-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('golden parity through the CLI', { concurrency: true }, () => {
  const parity = (name: string, args: string[], set: string, expected: string) =>
    test(name, async () => {
      const out = join(dir, `${name.replace(/\W+/g, '-')}.npy`);
      await ok(['generate', ...args, '--npy', out]);
      assertClose((await readNpy(out)) as Tensor, await golden(set, expected), FORWARD, expected);
    });

  parity('rosinality, truncation 1, const noise', ['--model', `${SG2}ckpt.pt`, '--z', `${SG2}z.npy`, '--noise', 'const'], 'sg2-tiny-a', 'img_t1.npy');
  parity('rosinality, truncation 0.7', ['--model', `${SG2}ckpt.pt`, '--z', `${SG2}z.npy`, '--truncation', '0.7'], 'sg2-tiny-a', 'img_t07.npy');
  parity('rosinality, no noise', ['--model', `${SG2}ckpt.pt`, '--z', `${SG2}z.npy`, '--noise', 'none'], 'sg2-tiny-a', 'img_nonoise.npy');
  parity('rosinality, W with a raw .npy domain vector', ['--model', `${SG2}ckpt.pt`, '--w', `${SG2}w.npy`, '--domain', `${SG2}domain.npy`], 'sg2-tiny-a', 'img_domain.npy');
  parity(
    'NVIDIA pickle, W+ with a domain mixed from two half-strength copies of it',
    ['--model', `${ADA}network-snapshot.pkl`, '--w', `${ADA}ws.npy`, '--domain', `${ADA}domain.npy`, '--domain', `${ADA}domain.npy`, '--domain-strength', '0.5'],
    'sg2ada-tiny-a',
    'img_domain.npy',
  );
  parity('NVIDIA pickle, const noise, in batches of 2', ['--model', `${ADA}network-snapshot.pkl`, '--z', `${ADA}z.npy`, '--batch', '2'], 'sg2ada-tiny-a', 'img_const.npy');

  test('rosinality, a .dv.safetensors domain file and truncation 0.7', async () => {
    const G = await loadGenerator(`${SG2}ckpt.pt`);
    const domainFile = join(dir, 'golden.dv.safetensors');
    await writeDomainFile(domainFile, {
      vector: (await golden('sg2-tiny-a', 'domain.npy')).data,
      layers: G.domainLayers,
      metadata: { ...baseModelMetadata(G), prompt: 'golden', losses: '{}', iterations: '0', clip_models: '', seed: '0' },
    });
    const out = join(dir, 'domain-file.npy');
    await ok(['generate', '--model', `${SG2}ckpt.pt`, '--z', `${SG2}z.npy`, '--truncation', '0.7', '--domain', domainFile, '--npy', out]);
    assertClose((await readNpy(out)) as Tensor, await golden('sg2-tiny-a', 'img_domain_t07.npy'), FORWARD, 'img_domain_t07');
  });
});

describe('PNG outputs', () => {
  test('8-bit conversion is uint8(clamp(127.5·x + 128, 0, 255)) with float32 steps, as NVIDIA generate.py', () => {
    // Channel planes of one 2x2 image; the expected bytes were computed with NumPy float32.
    const x = Float32Array.of(-1, -1.01, 0, 1, 1.01, NaN, 0.5, -0.99, 0.1, 0.2, 0.3, 0.4);
    assert.deepEqual([...imageToRgb8({ data: x, shape: [1, 3, 2, 2] }, 0)], [0, 255, 140, 0, 0, 153, 128, 191, 166, 255, 1, 179]);
  });

  test('--outdir writes seedNNNN.png files whose pixels are the --npy images in 8 bits; --out tiles them in the same run', async () => {
    const pngs = join(dir, 'pngs');
    const npy = join(dir, 'seeds.npy');
    const grid = join(dir, 'grid.png');
    const written = await ok(['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '0-2,7', '--outdir', pngs, '--out', grid, '--npy', npy, '--batch', '3']);
    assert.match(written.stdout, /wrote 4 PNGs \(32×32\)/);
    assert.match(written.stdout, /grid\.png: 2×2 grid/);
    assert.deepEqual((await readdir(pngs)).sort(), ['seed0000.png', 'seed0001.png', 'seed0002.png', 'seed0007.png']);
    const images = (await readNpy(npy)) as Tensor;
    assert.deepEqual(images.shape, [4, 3, 32, 32]);
    const seven = await pngPixels(join(pngs, 'seed0007.png'));
    assert.deepEqual([seven.width, seven.height], [32, 32]);
    assert.deepEqual(new Uint8Array(seven.data), imageToRgb8(images, 3));

    // 32-pixel images: 2-pixel white gutters, a 9-pixel label strip under each image, labels at scale 1.
    const tiled = await pngPixels(grid);
    assert.deepEqual([tiled.width, tiled.height], [2 + 2 * (32 + 2), 2 + 2 * (32 + 9 + 2)], '2 columns, 2 rows');
    const at = (x: number, y: number) => [...tiled.data.subarray((y * tiled.width + x) * 3, (y * tiled.width + x) * 3 + 3)];
    // Seed 7 is the second cell of the second row.
    const [x7, y7] = [2 + 34, 2 + 43];
    for (let y = 0; y < 32; y++) {
      const row = tiled.data.subarray(((y7 + y) * tiled.width + x7) * 3, ((y7 + y) * tiled.width + x7 + 32) * 3);
      assert.deepEqual(new Uint8Array(row), new Uint8Array(seven.data.subarray(y * 96, (y + 1) * 96)));
    }
    for (let x = 0; x < tiled.width; x++) assert.deepEqual(at(x, 0), [255, 255, 255], 'the top gutter is white');
    for (let y = 0; y < tiled.height; y++) assert.deepEqual(at(x7 - 1, y), [255, 255, 255], 'the gutter between the columns is white');
    // Its label "7", 5×7 pixels, centred under it one pixel down: black on white.
    const seven5x7 = ['11111', '00001', '00010', '00100', '01000', '01000', '01000'];
    const drawn = Array.from({ length: 9 }, (_, dy) =>
      Array.from({ length: 32 }, (_, dx) => (at(x7 + dx, y7 + 32 + dy)[0] === 0 ? '1' : '0')).join(''));
    const expected = Array.from({ length: 9 }, (_, dy) => '0'.repeat(13) + (seven5x7[dy - 1] ?? '00000') + '0'.repeat(14));
    assert.deepEqual(drawn, expected);
  });

  test('8 seeds make a 4×2 grid with every cell filled; --grid is the older name of --out; --grid-cols chooses', async () => {
    const [eight, older, cols] = [join(dir, 'eight.png'), join(dir, 'older.png'), join(dir, 'cols.png')];
    await Promise.all([
      ok(['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '0-7', '--out', eight]),
      ok(['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '0-7', '--grid', older]),
      ok(['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '0-7', '--out', cols, '--grid-cols', '3']),
    ]);
    const grid = await pngPixels(eight);
    assert.deepEqual([grid.width, grid.height], [2 + 4 * 34, 2 + 2 * 43]);
    assert.deepEqual(await pngPixels(older), grid);
    const three = await pngPixels(cols);
    assert.deepEqual([three.width, three.height], [2 + 3 * 34, 2 + 3 * 43]);
    // The ninth cell, after the last image, is background, not a black image.
    const cell = three.data.subarray(((2 + 2 * 43 + 5) * three.width + 2 + 2 * 34) * 3, ((2 + 2 * 43 + 5) * three.width + 2 + 3 * 34) * 3);
    assert.ok(cell.every((v) => v === 255));
  });

  test('--out is a file: a folder name gets a one-line pointer to --outdir', () =>
    failsWith(['generate', '--model', `${SG2}ckpt.pt`, '--out', join(dir, 'faces')], /^ganvec: --out: the grid is a \.png file, got .*faces; for one PNG per image in a folder use --outdir .*faces$/m));
});

describe('config-f generators in their real shapes, from random weights', () => {
  let f1024: string;
  let f256: string;
  before(async () => {
    const weights = randomRosinalityStateDict({ size: 1024 });
    f1024 = join(dir, 'config-f-1024.safetensors');
    await writeSafetensors(f1024, weights);
    // config-f channel counts depend only on the resolution, so the first layers of the 1024 generator
    // are exactly a 256 one: 12 synthesis convs, 6 ToRGBs, 13 noise maps.
    const limits: Record<string, number> = { convs: 12, to_rgbs: 6, noise_: 13 };
    const below256 = (name: string) => {
      const layer = /\.(convs|to_rgbs|noise_)\.?(\d+)/.exec(name);
      return !layer || Number(layer[2]) < limits[layer[1]!]!;
    };
    f256 = join(dir, 'config-f-256.safetensors');
    await writeSafetensors(f256, new Map([...weights].filter(([name]) => below256(name))));
  });

  test('a 1024 generator loads and generates one 1024×1024 image', { timeout: 120_000 }, async () => {
    const out = join(dir, 'f1024');
    await ok(['generate', '--model', f1024, '--seeds', '0', '--truncation', '0.7', '--outdir', out]);
    const png = await pngPixels(join(out, 'seed0000.png'));
    assert.deepEqual([png.width, png.height], [1024, 1024]);
  });

  test('info --json: 6,048 domain dims at 1024 and 5,760 at 256', async () => {
    const [big, small] = await Promise.all([ok(['info', f1024, '--json']), ok(['info', f256, '--json'])]);
    const a = JSON.parse(big.stdout) as { resolution: number; domainSize: number; nLatent: number; domainLayers: unknown[] };
    const b = JSON.parse(small.stdout) as { resolution: number; domainSize: number; nLatent: number; domainLayers: unknown[] };
    assert.deepEqual([a.resolution, a.domainSize, a.nLatent, a.domainLayers.length], [1024, 6048, 18, 17]);
    assert.deepEqual([b.resolution, b.domainSize, b.nLatent, b.domainLayers.length], [256, 5760, 14, 13]);
  });
});

describe('user mistakes are one-line errors with exit code 1', { concurrency: true }, () => {
  test('a missing model file', () => failsWith(['generate', '--model', join(dir, 'missing.pt'), '--npy', join(dir, 'x.npy')], /^ganvec: no such file: .*missing\.pt/));

  test('an HTML page saved as .pt', async () => {
    const page = join(dir, 'page.pt');
    await writeFile(page, '<!DOCTYPE html>\n<html><body>Sign in to continue</body></html>\n');
    await failsWith(['generate', '--model', page, '--npy', join(dir, 'x.npy')], /page\.pt: not a checkpoint: it is an HTML page/);
  });

  test('malformed --seeds', async () => {
    await failsWith(['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '0-x'], /^ganvec: --seeds: "0-x" is not a seed or a range of seeds/);
    await failsWith(['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '7-3'], /the range 7-3 ends before it starts/);
  });

  test('--z of the wrong dimension', () =>
    failsWith(['generate', '--model', `${ADA}network-snapshot.pkl`, '--z', `${ADA}ws.npy`, '--npy', join(dir, 'x.npy')], /--z .*ws\.npy has shape \[3, 8, 64\]; this generator takes \[N, 64\]/));

  test('an --outdir that cannot be created', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    await failsWith(['generate', '--model', `${SG2}ckpt.pt`, '--outdir', join(file, 'images')], /--outdir .*a-file\/images: cannot create the folder \(ENOTDIR\)/);
  });

  test('options that do not apply', async () => {
    await failsWith(['generate', '--model', `${SG2}ckpt.pt`, '--w', `${SG2}w.npy`, '--truncation', '0.7'], /--truncation does not apply to --w/);
    await failsWith(['generate', '--model', `${SG2}ckpt.pt`, '--noise-seed', '3'], /--noise-seed only applies to --noise random/);
  });

  test('NaN or infinity in --z or --w, naming the file and the index', async () => {
    const z = Float32Array.from((await golden('sg2-tiny-a', 'z.npy')).data);
    z[64 + 5] = NaN;
    const zFile = join(dir, 'z-nan.npy');
    await writeNpy(zFile, { data: z, shape: [3, 64] });
    const wPlus = new Float32Array(2 * 8 * 64);
    wPlus[8 * 64 + 2 * 64 + 3] = -Infinity;
    const wFile = join(dir, 'w-inf.npy');
    await writeNpy(wFile, { data: wPlus, shape: [2, 8, 64] });
    await failsWith(['generate', '--model', `${SG2}ckpt.pt`, '--z', zFile, '--npy', join(dir, 'x.npy')], /--z .*z-nan\.npy holds NaN at \[1, 5\]; latents must be finite/);
    await failsWith(['generate', '--model', `${SG2}ckpt.pt`, '--w', wFile, '--npy', join(dir, 'x.npy')], /--w .*w-inf\.npy holds -Infinity at \[1, 2, 3\]; latents must be finite/);
  });

  test('domain values so large that images would overflow float32, in a file or through --domain-strength', async () => {
    const huge = Float32Array.from((await golden('sg2-tiny-a', 'domain.npy')).data);
    huge[70] = 3e38;
    const hugeFile = join(dir, 'domain-huge.npy');
    await writeNpy(hugeFile, { data: huge, shape: [192] });
    await failsWith(
      ['generate', '--model', `${SG2}ckpt.pt`, '--domain', hugeFile, '--npy', join(dir, 'x.npy')],
      /domain-huge\.npy: the domain vector is too large: .* the largest value is 3e\+38 at convs\.1\[6\] \(flat index 70\)/,
    );
    await failsWith(
      ['generate', '--model', `${SG2}ckpt.pt`, '--domain', `${SG2}domain.npy`, '--domain-strength', '1e38', '--npy', join(dir, 'x.npy')],
      /--domain-strength 1e\+38: the mixed domain vector is too large/,
    );
  });

  test('a domain vector of the wrong length', () =>
    failsWith(['generate', '--model', `${SG2}ckpt.pt`, '--domain', `${ADA}domain.npy`, '--npy', join(dir, 'x.npy')], /192 values for this generator .*this one has shape \[188\]/));
});

test('--noise random gives each image the same noise whatever the batch', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ganvec-noise-'));
  const run = async (batch: string) => {
    const out = join(dir, `b${batch}.npy`);
    const r = await runCli(['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '0-4', '--noise', 'random', '--noise-seed', '7', '--batch', batch, '--npy', out]);
    assert.equal(r.code, 0, r.stderr);
    return (await readNpy(out)).data as Float32Array;
  };
  const one = await run('1');
  assert.deepEqual(await run('2'), one);
  const constNoise = join(dir, 'const.npy');
  assert.equal((await runCli(['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '0-4', '--noise', 'const', '--npy', constNoise])).code, 0);
  assert.notDeepEqual((await readNpy(constNoise)).data, one);
});
