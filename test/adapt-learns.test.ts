/**
 * Properties a working adaptation has and the collapsed one of ganvec 0.1 did not (there every element of
 * the vector ended with the same magnitude, the sign of the first gradient times Adam's steps, whatever
 * the target): after 60 free steps on the tiny fixtures the magnitudes |d| spread (coefficient of
 * variation above 0.2, as in HyperDomainNet's own runs) and different targets give different vectors
 * (cosine below 0.9) — for text prompts and for example images.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Tensor } from '../src/core/tensor.js';
import { readDomainFile } from '../src/domains/domain-file.js';
import { writeImagePng } from '../src/io/image.js';
import { loadGenerator } from '../src/registry/load.js';
import { zFromSeeds } from '../src/generators/latents.js';
import { runCli } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';
import { coefficientOfVariation, cosine } from './helpers/vector-stats.js';

const GENERATOR = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const CLIP = `${GOLDENS}clip-tiny-a/clip_state_dict.pt`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-learns-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** 60 steps with the defaults toward `target` (`--to TEXT` or `--images DIR`); the trained vector. */
async function train(name: string, ...target: string[]): Promise<Float32Array> {
  const out = join(dir, `${name}.dv.safetensors`);
  const r = await runCli(['adapt', '--from', GENERATOR, '--clip', CLIP, ...target, '--iters', '60', '--out', out, '--json'], {
    env: { GANVEC_HOME: join(dir, 'home') },
  });
  assert.equal(r.code, 0, r.stderr);
  return (await readDomainFile(out)).vector;
}

function assertLearned(a: Float32Array, b: Float32Array): void {
  for (const v of [a, b]) assert.ok(coefficientOfVariation(v) > 0.2, `|d| barely spread: coefficient of variation ${coefficientOfVariation(v).toFixed(3)}`);
  assert.ok(cosine(a, b) < 0.9, `two targets trained nearly the same vector: cosine ${cosine(a, b).toFixed(3)}`);
}

describe('a 60-step free run', () => {
  it('toward two prompts: spread magnitudes, different vectors', async () => {
    const [a, b] = await Promise.all([train('pixar', '--to', 'pixar'), train('sketch', '--to', 'a pencil sketch')]);
    assertLearned(a, b);
  });

  it('toward two image sets: spread magnitudes, different vectors', async () => {
    const G = await loadGenerator(GENERATOR, { batch: 8 });
    const samples = await G.generate({ z: zFromSeeds([900, 901, 902, 903, 904, 905, 906, 907], G.styleDim), noise: 'const' });
    await G.release();
    /** The samples with channel `keep` bright and the others dark: a colour cast the generator does not make. */
    const cast = (keep: number): Tensor => {
      const plane = samples.shape[2]! * samples.shape[3]!;
      return { data: samples.data.map((x, i) => (Math.floor(i / plane) % 3 === keep ? Math.min(1, 0.6 + 0.5 * x) : -0.8 + 0.2 * x)), shape: samples.shape };
    };
    const folders = await Promise.all(['red', 'blue'].map(async (colour, k) => {
      const folder = join(dir, colour);
      await mkdir(folder);
      const images = cast(k === 0 ? 0 : 2);
      for (let i = 0; i < 8; i++) await writeImagePng(join(folder, `${i}.png`), images, i);
      return folder;
    }));
    const [a, b] = await Promise.all(folders.map((f, k) => train(`images-${k}`, '--images', f)));
    assertLearned(a!, b!);
  });
});
