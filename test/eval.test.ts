/**
 * `ganvec eval` agrees with a direct computation of HyperDomainNet's quality (mean over samples and the 79
 * ImageNet templates of the cosine; StyleDomain's "A {}" with --template a) and diversity.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { baseModelMetadata, writeDomainFile } from '../src/domains/domain-file.js';
import { writeImagePng } from '../src/io/image.js';
import { type Clip } from '../src/clip/clip.js';
import { loadClip, loadGenerator } from '../src/registry/load.js';
import type { Generator } from '../src/generators/generator.js';
import { zFromSeeds } from '../src/generators/latents.js';
import { unitRowsOf } from './helpers/unit-rows.js';
import { IMAGENET_TEMPLATES } from '../src/train/prompt-templates.js';
import { loadPhotos } from '../src/clip/preprocess.js';
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
  return unitRowsOf(await clip.encodeGeneratorImage(await G.generate({ z: zFromSeeds(seeds, G.styleDim), noise: 'const', domain })));
}

function expectedDiversity(e: Float64Array[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < e.length; i++) for (let j = i + 1; j < e.length; j++) sum += 1 - dot(e[i]!, e[j]!), pairs++;
  return sum / pairs;
}

interface EvalJson { n: number; templates: string | null; scores: Array<{ clip: string; quality: number; diversity: number }> }

async function evalCli(...target: string[]): Promise<EvalJson> {
  const r = await runCli(['eval', '--model', GENERATOR, '--domain', domainFile, '--clip', CLIP, ...target, '--n', String(N), '--seed', String(SEED), '--batch', '8', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as EvalJson;
}

/** Mean over samples × target rows of the cosine (unit rows). */
function meanCosine(samples: Float64Array[], targets: Float64Array[]): number {
  let sum = 0;
  for (const e of samples) for (const t of targets) sum += dot(e, t);
  return sum / (samples.length * targets.length);
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
  it('--to: quality over the 79 templates and diversity match a direct computation', async () => {
    const [result, samples, text] = await Promise.all([
      evalCli('--to', 'pixar'),
      sampleEmbeddings(),
      clip.encodeText(IMAGENET_TEMPLATES.map((t) => t.replace('{}', 'pixar'))).then(unitRowsOf),
    ]);
    assert.equal(result.n, N);
    assert.equal(result.templates, 'imagenet');
    assert.equal(text.length, 79);
    const [score] = result.scores;
    const quality = meanCosine(samples, text);
    assert.ok(Math.abs(score!.quality - quality) < 1e-5, `quality ${score!.quality} vs ${quality}`);
    assert.ok(Math.abs(score!.diversity - expectedDiversity(samples)) < 1e-5, `diversity ${score!.diversity} vs ${expectedDiversity(samples)}`);
  });

  it('--to with --template a: quality against "A <text>" alone', async () => {
    const [result, samples, text] = await Promise.all([
      evalCli('--to', 'pixar', '--template', 'a'),
      sampleEmbeddings(),
      clip.encodeText(['A pixar']).then(unitRowsOf),
    ]);
    assert.equal(result.templates, 'a');
    const quality = meanCosine(samples, text);
    assert.ok(Math.abs(result.scores[0]!.quality - quality) < 1e-5, `quality ${result.scores[0]!.quality} vs ${quality}`);
  });

  it('scores several CLIP models on the same samples, each named', async () => {
    const r = await runCli(['eval', '--model', GENERATOR, '--domain', domainFile, '--clip', `${CLIP},${CLIP}`, '--to', 'pixar', '--n', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as EvalJson;
    assert.equal(result.scores.length, 2);
    assert.deepEqual(result.scores[0], result.scores[1]);
    assert.match(result.scores[0]!.clip, /clip_state_dict/);
  });

  it('--images: quality is the mean over images × samples', async () => {
    const files = [0, 1, 2].map((i) => join(photos, `p${i}.png`));
    const [result, samples, targets] = await Promise.all([
      evalCli('--images', photos),
      sampleEmbeddings(),
      loadPhotos(files, clip.resolution).then((p) => clip.encodeImage(p)).then(unitRowsOf),
    ]);
    const quality = meanCosine(samples, targets);
    assert.ok(Math.abs(result.scores[0]!.quality - quality) < 1e-5, `quality ${result.scores[0]!.quality} vs ${quality}`);
    assert.ok(Math.abs(result.scores[0]!.diversity - expectedDiversity(samples)) < 1e-5);
  });

  it('without --json names the model, domain, target and templates, then a score per CLIP model', async () => {
    const r = await runCli(['eval', '--model', GENERATOR, '--domain', domainFile, '--clip', CLIP, '--to', 'pixar', '--n', '4']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 4), [
      'model      ckpt.pt',
      'domain     random.dv.safetensors',
      'target     "pixar" through the 79 ImageNet templates (HyperDomainNet\'s Evaluator)',
      `samples    4, seeds 0-3`,
    ]);
    assert.match(lines[4]!, /^clip\s+quality  diversity$/);
    assert.match(lines[5]!, /^clip_state_dict\.pt\s+-?\d\.\d{4}\s+\d\.\d{4}$/);
    assert.equal(lines.length, 6);
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
