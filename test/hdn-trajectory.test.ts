/**
 * Step for step against HyperDomainNet's own trainer: hdn-traj-a is 12 steps of its `td_single` recipe
 * on sg2-tiny-a with clip-tiny-a, with every draw recorded. Replaying those draws must give its domain
 * vector after every step (1e-3 relative L2) and its loss at every step — through the API and through the
 * CLI, resumed half-way. A run's own draws, recorded with --record, replay to the same vector bit for bit.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readDomainFile } from '../src/domains/domain-file.js';
import { readNpz } from '../src/io/npz.js';
import { type Clip } from '../src/clip/clip.js';
import { loadClip, loadGenerator } from '../src/registry/load.js';
import type { Generator } from '../src/generators/generator.js';
import { adaptDomain, DEFAULT_SETTINGS, drawShape } from '../src/train/loop.js';
import { replayDraws } from '../src/train/draws-file.js';
import { textDirection } from '../src/train/text-direction.js';
import { runCli } from './helpers/cli.js';
import { golden, GOLDENS } from './helpers/golden.js';

const GENERATOR = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const CLIP = `${GOLDENS}clip-tiny-a/clip_state_dict.pt`;
const REPLAY = `${GOLDENS}hdn-traj-a/replay.npz`;
const TARGET = '3D Render in the Style of Pixar';
const SOURCE = 'Photo';
const STEPS = 12;

const trajectory = readNpz(`${GOLDENS}hdn-traj-a/trajectory.npz`);
const referenceVector = (t: number) => trajectory.get(`t${t}_domain`)!.data as Float32Array;

function relativeL2(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let norm = 0;
  expected.forEach((x, i) => {
    diff += (actual[i]! - x) ** 2;
    norm += x * x;
  });
  return Math.sqrt(diff / norm);
}

function assertOnTrajectory(vector: Float32Array, step: number, what: string): void {
  const err = relativeL2(vector, referenceVector(step - 1));
  assert.ok(err <= 1e-3, `${what}: vector after step ${step} is ${err.toExponential(2)} (relative L2) off HyperDomainNet's`);
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-hdn-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('replaying HyperDomainNet td_single (hdn-traj-a)', () => {
  let G: Generator;
  let clip: Clip;
  before(async () => {
    G = await loadGenerator(GENERATOR, { batch: 4 });
    clip = await loadClip(CLIP);
  });
  after(() => Promise.all([G.release(), clip.release()]));

  it('has the text direction of its 79 templates', async () => {
    const reference = (await golden('hdn-traj-a', 'delta_t_clip0.npy')).data;
    const norm = Math.hypot(...reference);
    const ours = await textDirection(clip, TARGET, SOURCE);
    const cos = ours.reduce((s, x, i) => s + (x * reference[i]!) / norm, 0);
    assert.ok(cos > 1 - 1e-6, `cos with HyperDomainNet's direction ${cos}`);
  });

  it('follows its vector after every step and its loss at every step (API)', async () => {
    const direction = await textDirection(clip, TARGET, SOURCE);
    const seen: Array<{ vector: Float32Array; loss: number }> = [];
    const result = await adaptDomain(G, {
      settings: { ...DEFAULT_SETTINGS, iterations: STEPS, batch: 4, lr: 0.1, losses: { direction: 1, indomain: 0, offsets_l2: 0 } },
      clips: [{ weights: clip.weights, weight: 1, direction }],
      draws: replayDraws(REPLAY, drawShape(G, 4), STEPS),
      onStep: (r) => void seen.push({ vector: Float32Array.from(r.vector), loss: r.loss }),
    });
    assert.equal(result.stopped, 'done');
    assert.equal(seen.length, STEPS);
    seen.forEach(({ vector, loss }, t) => {
      assertOnTrajectory(vector, t + 1, 'API');
      const expected = (trajectory.get(`t${t}_loss`)!.data as Float32Array)[0]!;
      assert.ok(Math.abs(loss - expected) <= 1e-5, `loss of step ${t + 1}: ${loss} vs ${expected}`);
    });
  });
});

describe('ganvec adapt --replay', () => {
  const args = (out: string, iters: number, ...extra: string[]) => [
    'adapt', '--from', GENERATOR, '--clip', CLIP, '--to', TARGET, '--source', SOURCE, '--iters', String(iters),
    '--batch', '4', '--lr', '0.1', '--loss', 'direction=1', '--replay', REPLAY, '--out', out, '--json', ...extra,
  ];

  it('gives its vector after steps 1, 3 and (resumed) 12', async () => {
    const one = join(dir, 'one.dv.safetensors');
    const three = join(dir, 'three.dv.safetensors');
    const [r1, r3] = await Promise.all([runCli(args(one, 1)), runCli(args(three, 3))]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r3.code, 0, r3.stderr);
    assertOnTrajectory((await readDomainFile(one)).vector, 1, 'CLI');
    assertOnTrajectory((await readDomainFile(three)).vector, 3, 'CLI');
    const r12 = await runCli(args(three, STEPS, '--resume'));
    assert.equal(r12.code, 0, r12.stderr);
    const file = await readDomainFile(three);
    assertOnTrajectory(file.vector, STEPS, 'CLI resumed');
    assert.deepEqual(file.layers.map((l) => l.name), ['conv1', ...Array.from({ length: 6 }, (_, i) => `convs.${i}`)]);
    assert.match(file.metadata.draws!, /^replay:[0-9a-f]{16}$/);
    assert.equal(JSON.parse(file.metadata.text_templates!).length, 79);
  });

  it('refuses a file whose draws do not fit the run', async () => {
    const tooLong = await runCli(args(join(dir, 'long.dv.safetensors'), 13));
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.stderr, /replay\.npz: holds the draws of 12 steps; the run needs 13/);
    const wrongBatch = await runCli([...args(join(dir, 'batch.dv.safetensors'), 2), '--batch', '2']);
    assert.equal(wrongBatch.code, 1);
    assert.match(wrongBatch.stderr, /t0_z is \[4, 64\]; this generator and batch need \[2, 64\]/);
  });
});

describe('ganvec adapt --record', () => {
  it('writes draws that --replay turns into the same vector, in the replay layout', async () => {
    const recorded = join(dir, 'recorded.dv.safetensors');
    const replayed = join(dir, 'replayed.dv.safetensors');
    const draws = join(dir, 'draws.npz');
    const common = ['adapt', '--from', GENERATOR, '--clip', CLIP, '--to', 'pixar', '--iters', '5', '--batch', '2', '--json'];
    const r = await runCli([...common, '--seed', '9', '--record', draws, '--out', recorded]);
    assert.equal(r.code, 0, r.stderr);
    const arrays = readNpz(draws);
    assert.deepEqual(arrays.get('t0_z')!.shape, [2, 64]);
    assert.deepEqual(arrays.get('t4_b_noise6')!.shape, [2, 1, 32, 32]);
    assert.ok(arrays.get('t0_a_inject')!.data instanceof BigInt64Array);
    assert.equal(arrays.has('t5_z'), false);
    // A different --seed must not matter: every draw comes from the file.
    const p = await runCli([...common, '--seed', '1', '--replay', draws, '--out', replayed]);
    assert.equal(p.code, 0, p.stderr);
    assert.deepEqual((await readDomainFile(replayed)).vector, (await readDomainFile(recorded)).vector);
  });
});
