/**
 * Text adaptation of a Progressive GAN through the family interface, as adapt-learns.test.ts checks
 * StyleGAN2: 30 free steps on the tiny fixtures toward two prompts spread the magnitudes |d| (coefficient
 * of variation above 0.2), give different vectors (cosine below 0.9) and lower the loss. The Progressive
 * GAN has no noise and one latent row, so its frozen and adapted calls coincide at d = 0: this is the run
 * that collapsed to the sign of the first gradient before the direction loss took zero edits as they start.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { readDomainFile } from '../src/domains/domain-file.js';
import { runCli } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';
import { coefficientOfVariation, cosine } from './helpers/vector-stats.js';

const GENERATOR = `${GOLDENS}pgan-tiny-a/checkpoint.pth`;
const CLIP = `${GOLDENS}clip-tiny-a/clip_state_dict.pt`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-pggan-adapt-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** 30 steps with the defaults toward `prompt`: the trained vector and each step's loss. */
async function train(name: string, prompt: string): Promise<{ vector: Float32Array; losses: number[] }> {
  const out = join(dir, `${name}.dv.safetensors`);
  const r = await runCli(['adapt', '--from', GENERATOR, '--clip', CLIP, '--to', prompt, '--iters', '30', '--out', out, '--json'], {
    env: { GANVEC_HOME: join(dir, 'home') },
  });
  assert.equal(r.code, 0, r.stderr);
  const losses = r.stdout.split('\n').filter((line) => line.includes('"event":"step"')).map((line) => (JSON.parse(line) as { loss: number }).loss);
  assert.equal(losses.length, 30);
  const file = await readDomainFile(out);
  assert.equal(file.vector.length, 192);
  assert.equal(file.layers[0]!.name, 'groupScale0.0');
  return { vector: file.vector, losses };
}

it('a 30-step free run toward two prompts: spread magnitudes, different vectors, falling loss', async () => {
  const runs = await Promise.all([train('pixar', 'pixar'), train('sketch', 'a pencil sketch')]);
  for (const { vector, losses } of runs) {
    assert.ok(coefficientOfVariation(vector) > 0.2, `|d| barely spread: coefficient of variation ${coefficientOfVariation(vector).toFixed(3)}`);
    // Step 1 is 1 whatever happens (no edit yet at d = 0); the loss must fall from where step 2 starts.
    const early = mean(losses.slice(1, 6));
    const late = mean(losses.slice(-10));
    assert.ok(late < 0.8 * early, `the loss did not fall: steps 2-6 ${early.toFixed(3)}, last 10 ${late.toFixed(3)}`);
  }
  const [a, b] = runs;
  assert.ok(cosine(a!.vector, b!.vector) < 0.9, `two prompts trained nearly the same vector: cosine ${cosine(a!.vector, b!.vector).toFixed(3)}`);
});
