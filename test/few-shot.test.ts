/**
 * Few-image adaptation on the tiny fixtures: the image direction is the documented formula, the source
 * mean is cached, `adapt({ images })` moves held-out samples toward the examples, and `ganvec adapt
 * --images` records the image set and refuses `--to` alongside it.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readDomainFile } from '../src/domains/domain-file.js';
import { writeNpy } from '../src/io/npy.js';
import { writeImagePng } from '../src/io/image.js';
import { readImageSet, type ImageSet } from '../src/io/image-folder.js';
import type { Tensor } from '../src/core/tensor.js';
import { type Clip } from '../src/clip/clip.js';
import { loadClip, loadGenerator } from '../src/registry/load.js';
import type { Generator } from '../src/generators/generator.js';
import { zFromSeeds } from '../src/generators/latents.js';
import { adapt } from '../src/train/adapt.js';
import { evaluateDomain } from '../src/train/evaluate.js';
import { imageDirection, targetEmbeddings } from '../src/train/image-direction.js';
import { sourceMeanEmbedding } from '../src/train/source-embeddings.js';
import { unitRowsOf } from './helpers/unit-rows.js';
import { runCli } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';

const GENERATOR = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const CLIP = `${GOLDENS}clip-tiny-a/clip_state_dict.pt`;
/** Training latents come from RandomState streams; these seeds are used only to evaluate. */
const HELD_OUT = { n: 24, seed: 5000 };

let dir: string;
let G: Generator;
let clip: Clip;
let targets: string;
let cacheDir: string;

/** Generator samples with a strong red cast: a target domain the frozen generator does not reach. */
function redCast(images: Tensor): Tensor {
  const [n, , h, w] = images.shape as [number, number, number, number];
  const plane = h * w;
  const data = Float32Array.from(images.data, (x, i) => {
    const channel = Math.floor(i / plane) % 3;
    return channel === 0 ? Math.min(1, 0.6 + 0.5 * x) : -0.8 + 0.2 * x;
  });
  return { data, shape: [n, 3, h, w] };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-few-shot-'));
  cacheDir = join(dir, 'cache');
  G = await loadGenerator(GENERATOR, { batch: 16 });
  clip = await loadClip(CLIP, { batch: 16 });
  targets = join(dir, 'ten-photos');
  await mkdir(targets);
  const images = redCast(await G.generate({ z: zFromSeeds([900, 901, 902, 903, 904, 905, 906, 907, 908, 909], G.styleDim), noise: 'const' }));
  for (let i = 0; i < 10; i++) await writeImagePng(join(targets, `target-${i}.png`), images, i);
});

after(async () => {
  await Promise.all([G.release(), clip.release()]);
  await rm(dir, { recursive: true, force: true });
});

describe('image direction', () => {
  it('is normalise(mean of unit target embeddings − mean of unit source embeddings over 256 samples)', async () => {
    const set = await readImageSet([targets]);
    const direction = await imageDirection(G, clip, set, { cacheDir });

    const source = unitRowsOf(await clip.encodeGeneratorImage(await G.generate({ z: zFromSeeds(Array.from({ length: 256 }, (_, i) => i), G.styleDim), noise: 'const' })));
    const target = await targetEmbeddings(clip, set);
    const mean = (rows: Float64Array[]) => rows[0]!.map((_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);
    const [t, s] = [mean(target), mean(source)];
    const delta = t.map((x, j) => x - s[j]!);
    const norm = Math.hypot(...delta);
    for (let j = 0; j < delta.length; j++) assert.ok(Math.abs(direction[j]! - delta[j]! / norm) < 1e-5, `component ${j}`);
  });

  it('caches the source mean under a key of generator, CLIP and samples, and reuses it', async () => {
    const cache = join(dir, 'cache-reuse');
    const samples = { count: 32, seed: 3 };
    const first = await sourceMeanEmbedding(G, clip, { cacheDir: cache, samples });
    assert.deepEqual(first, await sourceMeanEmbedding(G, clip, { cacheDir: false, samples }));
    const files = await readdir(cache);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^[0-9a-f]{32}\.npy$/);
    // A marker written into the cache file comes back: the second call reads instead of recomputing.
    const marker = new Float32Array(clip.embedDim).fill(0.25);
    await writeNpy(join(cache, files[0]!), { data: marker, shape: [marker.length] });
    assert.deepEqual(await sourceMeanEmbedding(G, clip, { cacheDir: cache, samples }), marker);
    await sourceMeanEmbedding(G, clip, { cacheDir: cache, samples: { count: 32, seed: 4 } });
    assert.equal((await readdir(cache)).length, 2, 'another seed is another entry');
  });
});

describe('adapt({ images })', () => {
  it('40 steps raise the CLIP similarity of held-out samples to the examples', async () => {
    const set: ImageSet = await readImageSet([targets]);
    const [before] = await evaluateDomain(G, [clip], { target: { images: set }, ...HELD_OUT });
    const result = await adapt(G, { images: [targets], clips: [clip], iterations: 40, source: { cacheDir } });
    assert.equal(result.stopped, 'done');
    assert.deepEqual(result.settings.losses, { direction: 1, indomain: 0.5, offsets_l2: 0 });
    assert.equal(result.imageSet?.images.length, 10);
    const [afterwards] = await evaluateDomain(G, [clip], { target: { images: set }, domain: result.vector, ...HELD_OUT });
    assert.ok(afterwards!.quality > before!.quality + 0.02, `quality ${before!.quality.toFixed(4)} → ${afterwards!.quality.toFixed(4)}`);
  });

  it('needs exactly one of text or images', async () => {
    await assert.rejects(adapt(G, { clips: [clip], iterations: 1 }), /exactly one of text or images/);
    await assert.rejects(adapt(G, { clips: [clip], iterations: 1, images: [targets], text: { target: 'pixar' } }), /exactly one/);
  });
});

describe('ganvec adapt --images', () => {
  const env = () => ({ GANVEC_HOME: join(dir, 'home') });

  it('records the image set (names and digest) in the domain file', async () => {
    const out = join(dir, 'red.dv.safetensors');
    const r = await runCli(['adapt', '--from', GENERATOR, '--clip', CLIP, '--images', targets, '--iters', '3', '--out', out, '--json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const { metadata } = await readDomainFile(out);
    assert.equal(metadata.image_set, (await readImageSet([targets])).digest);
    assert.deepEqual(JSON.parse(metadata.image_files!), Array.from({ length: 10 }, (_, i) => `target-${i}.png`));
    assert.equal(metadata.prompt, undefined);
    assert.deepEqual(JSON.parse(metadata.losses!), { direction: 1, indomain: 0.5, offsets_l2: 0 });
  });

  it('refuses --to together with --images', async () => {
    const r = await runCli(['adapt', '--from', GENERATOR, '--clip', CLIP, '--images', targets, '--to', 'pixar', '--out', join(dir, 'x.dv.safetensors')], { env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--to.*--images|--images.*--to/);
  });

  it('fails with one line naming the folder when it holds no image', async () => {
    const empty = join(dir, 'nothing-here');
    await mkdir(empty);
    const r = await runCli(['adapt', '--from', GENERATOR, '--clip', CLIP, '--images', empty, '--out', join(dir, 'y.dv.safetensors')], { env: env() });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(empty), r.stderr);
  });
});
