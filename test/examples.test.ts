/** The example scripts run as documented (on the tiny fixtures instead of the downloaded models). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import sharp from 'sharp';
import { readDomainFile } from '../src/domains/domain-file.js';
import { readWFile } from '../src/generators/w-file.js';
import { imageToRgb8 } from '../src/io/image.js';
import { loadGenerator } from '../src/registry/load.js';
import { astronautPhoto } from './helpers/astronaut.js';
import { REPO } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';

const MODEL = ['--model', `${GOLDENS}sg2-tiny-a/ckpt.pt`];
const CLIP = ['--clip', `${GOLDENS}clip-tiny-a/clip_state_dict.pt`];
const LPIPS = ['--lpips-trunk', `${GOLDENS}lpips-tiny-a/vgg16.pth`, '--lpips-lin', `${GOLDENS}lpips-tiny-a/lpips_vgg.pth`];

/** Runs examples/<script> with tsx; rejects with its stderr when it fails. */
function runExample(script: string, args: string[], home: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `examples/${script}`, ...args], {
      cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GANVEC_OFFLINE: '1', GANVEC_HOME: home },
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (c) => (c === 0 ? resolve() : reject(new Error(stderr))));
  });
}

/** Width of a grid of `cols` 32 px cells with 2 px gutters, plus a row-label column. */
const gridWidth = (cols: number, rowLabels = 0) => 2 + rowLabels + cols * (32 + 2);

it('examples/adapt-and-generate.ts adapts and writes grids and a domain file', async () => {
  const out = await mkdtemp(join(tmpdir(), 'ganvec-example-'));
  await runExample('adapt-and-generate.ts', [...MODEL, ...CLIP, '--to', 'pixar', '--iters', '5', '--outdir', out], join(out, 'home'));
  for (const name of ['before.png', 'after.png']) {
    const meta = await sharp(join(out, name)).metadata();
    assert.equal(meta.width, gridWidth(4), '4 columns of 32 pixels with 2-pixel gutters');
  }
  const domain = await readDomainFile(join(out, 'domain.dv.safetensors'));
  assert.equal(domain.metadata.iterations, '5');
});

it('examples/quickstart.ts writes the truncation and style-mixing grids', async () => {
  const out = await mkdtemp(join(tmpdir(), 'ganvec-example-'));
  await runExample('quickstart.ts', [...MODEL, '--outdir', out], join(out, 'home'));
  const truncation = await sharp(join(out, 'truncation.png')).metadata();
  const mixing = await sharp(join(out, 'mixing.png')).metadata();
  assert.ok(truncation.width! > gridWidth(8), '8 columns and a row-label column');
  assert.ok(mixing.width! > gridWidth(4), '4 columns and a row-label column');
  // Three rows of 32 px cells with a label strip each, and two rows without.
  assert.ok(truncation.height! > 3 * 32 && mixing.height! === 2 + 2 * (32 + 2), `${truncation.height} / ${mixing.height}`);
});

it('examples/few-images-and-mixing.ts adapts from a folder and a prompt, mixes them and sweeps the strength', async () => {
  const out = await mkdtemp(join(tmpdir(), 'ganvec-example-'));
  const images = join(out, 'examples');
  await mkdir(images);
  for (const [i, color] of [[255, 120, 0], [230, 90, 20], [250, 140, 40]].entries()) {
    await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: color[0]!, g: color[1]!, b: color[2]! } } }).png().toFile(join(images, `warm-${i}.png`));
  }
  await runExample('few-images-and-mixing.ts', [...MODEL, ...CLIP, '--images', images, '--iters', '4', '--outdir', out], join(out, 'home'));
  const mix = await readDomainFile(join(out, 'mix.dv.safetensors'));
  const parents = JSON.parse(mix.metadata.parents!) as Array<{ name: string; weight: number }>;
  assert.deepEqual(parents.map((p) => [p.name, p.weight]), [['images.dv.safetensors', 0.5], ['text.dv.safetensors', 0.5]]);
  const [a, b] = await Promise.all(['images', 'text'].map((n) => readDomainFile(join(out, `${n}.dv.safetensors`))));
  mix.vector.forEach((v, i) => assert.equal(v, Math.fround(0.5 * a!.vector[i]! + 0.5 * b!.vector[i]!)));
  assert.equal((await sharp(join(out, 'strength.png')).metadata()).width, gridWidth(6));
});

it('examples/restyle-a-photo.ts aligns, projects and restyles a real photo: photo | reconstruction | each prompt', async () => {
  const out = await mkdtemp(join(tmpdir(), 'ganvec-example-'));
  await runExample('restyle-a-photo.ts', ['--photo', astronautPhoto(), ...MODEL, ...CLIP, ...LPIPS, '--steps', '5', '--iters', '3', '--to', 'pixar', '--to', 'sketch', '--outdir', out], join(out, 'home'));
  const { data, info } = await sharp(join(out, 'restyled.png')).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, gridWidth(4), 'photo, reconstruction and two domains');
  const panel = (i: number) => Buffer.concat(Array.from({ length: 32 }, (_, y) => data.subarray(((2 + y) * info.width + 2 + i * 34) * 3, ((2 + y) * info.width + 2 + i * 34 + 32) * 3)));
  // The reconstruction is what `generate --w projected_w.npz` draws.
  const G = await loadGenerator(`${GOLDENS}sg2-tiny-a/ckpt.pt`, { download: false });
  try {
    const { rows } = await readWFile(join(out, 'projected_w.npz'), G.nLatent, G.styleDim);
    assert.deepEqual(rows.shape, [1, 8, 64]);
    assert.deepEqual(panel(1), Buffer.from(imageToRgb8(await G.synthesize({ w: rows }), 0)));
  } finally {
    await G.release();
  }
  assert.notDeepEqual(panel(2), panel(1), 'the first domain changes the picture');
  assert.notDeepEqual(panel(3), panel(2), 'the domains differ');
  for (const i of [0, 1]) assert.equal((await readDomainFile(join(out, `domain-${i}.dv.safetensors`))).metadata.iterations, '3');
});
