/**
 * The micro-batched step (embeddings per micro-batch, losses over the whole batch, VJP per micro-batch)
 * gives the fused step's loss, loss terms and gradient, with every loss on, including the indomain term
 * that couples samples across micro-batches.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadClip, loadGenerator } from '../src/registry/load.js';
import { sampleInputs, toWPlus } from '../src/generators/latents.js';
import { RandomState } from '../src/core/random-state.js';
import { chooseMicroBatch, createStepRunner, defaultStepMemory } from '../src/train/step-runner.js';
import { textDirection } from '../src/train/text-direction.js';
import { assertClose, GOLDENS } from './helpers/golden.js';

it('micro-batched and fused steps agree', async () => {
  const G = await loadGenerator(`${GOLDENS}sg2-tiny-a/ckpt.pt`);
  const clip = await loadClip(`${GOLDENS}clip-tiny-a/clip_state_dict.pt`);
  const direction = await textDirection(clip, 'pixar', 'photo');
  await clip.release();
  const batch = 4;
  const spec = { generator: G, clips: [{ weights: clip.weights, weight: 0.7 }], batch, losses: { direction: 1, indomain: 0.5, offsets_l2: 2 } };
  const rng = new RandomState(3);
  const call = (noiseSeed: number) => ({
    ws: toWPlus({ data: rng.randn(batch * G.styleDim), shape: [batch, G.styleDim] }, G.nLatent),
    samples: sampleInputs(G.sampleInputs, batch, 'random', noiseSeed),
  });
  const inputs = {
    frozen: call(5),
    adapted: call(6),
    vector: rng.randn(192).map((x) => 0.3 * x),
    directions: [direction],
  };
  const fused = await createStepRunner(spec, batch);
  const micro = await createStepRunner(spec, 2);
  const a = await fused.run(inputs);
  const b = await micro.run(inputs);
  await Promise.all([fused.release(), micro.release()]);
  assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.abs(a.loss), `loss ${a.loss} vs ${b.loss}`);
  for (const name of ['direction', 'indomain', 'offsets_l2']) {
    assert.ok(Math.abs(a.terms[name]! - b.terms[name]!) <= 1e-5 * Math.abs(a.terms[name]!) + 1e-7, name);
  }
  assertClose(b.gradient, { data: a.gradient, shape: [192] }, 1e-4, 'gradient');
});

it('chooses the whole batch when it fits and a divisor when it does not', () => {
  assert.equal(chooseMicroBatch(4, 256, 1, 20e9), 4);
  assert.equal(chooseMicroBatch(8, 1024, 1, 16e9), 4);
  assert.equal(chooseMicroBatch(6, 1024, 2, 11e9), 2);
  assert.equal(chooseMicroBatch(4, 1024, 2, 1e9), 1);
  // The default keeps the FFHQ-1024 batch-4 step under 8 GiB (micro-batches of 2) whatever the machine.
  assert.equal(chooseMicroBatch(4, 1024, 1, 8 * 2 ** 30), 2);
  assert.ok(defaultStepMemory() <= 8 * 2 ** 30);
});
