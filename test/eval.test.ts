/** `ganvec eval` agrees with a direct computation of HyperDomainNet's quality and diversity. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { baseModelMetadata, writeDomainFile } from '../src/io/domain-file.js';
import { writeImagePng } from '../src/io/image.js';
import { loadClip, type Clip } from '../src/models/clip/clip.js';
import { loadGenerator } from '../src/models/stylegan2/load.js';
import type { Generator } from '../src/models/stylegan2/generator.js';
import { zFromSeeds } from '../src/models/stylegan2/latents.js';
import { normalizeRows } from '../src/train/text-direction.js';
import { loadPhotos } from '../src/models/clip/preprocess.js';
import { runCli } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';
import { Rng } from './helpers/random.js';

const GENERATOR = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const CLIP = `${GOLDENS}clip-tiny-a/clip_state_dict.pt`;
const N = 40;
const SEED = 7;

let dir: string;
let G: Generator;
let clip: Clip;
let domain: Float32Array;
let domainFile: string;
let photos: string;

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, k) => s + x * b[k]!, 0);

/** Unit embeddings of the adapted generator's samples for seeds SEED … SEED+N−1. */
async function sampleEmbeddings(): Promise<Float64Array[]> {
  const seeds = Array.from({ length: N }, (_, i) => SEED + i);
  return normalizeRows(await clip.encodeGeneratorImage(await G.generate({ z: zFromSeeds(seeds, G.styleDim), noise: 'const', domain })));
}

function expectedDiversity(e: Float64Array[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < e.length; i++) for (let j = i + 1; j < e.length; j++) sum += 1 - dot(e[i]!, e[j]!), pairs++;
  return sum / pairs;
}

interface EvalJson { quality: number; diversity: number; n: number }

async function evalCli(...target: string[]): Promise<EvalJson> {
  const r = await runCli(['eval', '--model', GENERATOR, '--domain', domainFile, '--clip', CLIP, ...target, '--n', String(N), '--seed', String(SEED), '--batch', '8', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as EvalJson;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-eval-'));
  G = await loadGenerator(GENERATOR, { batch: 8 });
  clip = await loadClip(CLIP, { batch: 8 });
  domain = new Rng(11).randn([G.domainSize], 0.3);
  domainFile = join(dir, 'random.dv.safetensors');
  await writeDomainFile(domainFile, {
    vector: domain,
    layers: G.domainLayers,
    metadata: { ...baseModelMetadata(G), prompt: 'test', losses: '{}', iterations: '0', clip_models: 'none', seed: '0' },
  });
  photos = join(dir, 'photos');
  await mkdir(photos);
  const images = await G.generate({ z: zFromSeeds([100, 101, 102], G.styleDim), noise: 'const' });
  for (let i = 0; i < 3; i++) await writeImagePng(join(photos, `p${i}.png`), images, i);
});

after(async () => {
  await Promise.all([G.release(), clip.release()]);
  await rm(dir, { recursive: true, force: true });
});

describe('ganvec eval', { concurrency: true }, () => {
  it('--to: quality against "A <text>" and diversity match a direct computation', async () => {
    const [result, samples, text] = await Promise.all([
      evalCli('--to', 'pixar'),
      sampleEmbeddings(),
      clip.encodeText(['A pixar']).then(normalizeRows),
    ]);
    assert.equal(result.n, N);
    const quality = samples.reduce((s, e) => s + dot(e, text[0]!), 0) / N;
    assert.ok(Math.abs(result.quality - quality) < 1e-5, `quality ${result.quality} vs ${quality}`);
    assert.ok(Math.abs(result.diversity - expectedDiversity(samples)) < 1e-5, `diversity ${result.diversity} vs ${expectedDiversity(samples)}`);
  });

  it('--images: quality is the mean over images × samples', async () => {
    const files = [0, 1, 2].map((i) => join(photos, `p${i}.png`));
    const [result, samples, targets] = await Promise.all([
      evalCli('--images', photos),
      sampleEmbeddings(),
      loadPhotos(files, clip.resolution).then((p) => clip.encodeImage(p)).then(normalizeRows),
    ]);
    let sum = 0;
    for (const e of samples) for (const t of targets) sum += dot(e, t);
    const quality = sum / (N * targets.length);
    assert.ok(Math.abs(result.quality - quality) < 1e-5, `quality ${result.quality} vs ${quality}`);
    assert.ok(Math.abs(result.diversity - expectedDiversity(samples)) < 1e-5);
  });

  it('prints quality, diversity and n without --json', async () => {
    const r = await runCli(['eval', '--model', GENERATOR, '--domain', domainFile, '--clip', CLIP, '--to', 'pixar', '--n', '4']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^quality\s+-?\d\.\d{4}\ndiversity\s+\d\.\d{4}\nn\s+4\n$/);
  });

  it('needs exactly one of --to and --images', async () => {
    const both = await runCli(['eval', '--model', GENERATOR, '--clip', CLIP, '--to', 'pixar', '--images', photos]);
    const neither = await runCli(['eval', '--model', GENERATOR, '--clip', CLIP]);
    for (const r of [both, neither]) {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--to.*--images/);
    }
  });
});
