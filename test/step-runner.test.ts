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
import { buildAdaptedVjpGraph } from '../src/train/step-graph.js';
import { textDirection } from '../src/train/text-direction.js';
import { assertClose, GOLDENS } from './helpers/golden.js';

/** Runs one step fused and as `others` (micro-batch and checkpointing); all must give its results. */
async function agree(checkpoint: string, vectorScale: number, others: ReadonlyArray<{ microBatch: number; checkpointed: boolean }>) {
  const G = await loadGenerator(`${GOLDENS}${checkpoint}`);
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
    vector: rng.randn(G.domainSize).map((x) => vectorScale * x),
    directions: [direction],
  };
  const fused = await createStepRunner(spec, batch);
  const a = await fused.run(inputs);
  await fused.release();
  for (const { microBatch, checkpointed } of others) {
    const how = `micro-batch ${microBatch}${checkpointed ? ', checkpointed' : ''}`;
    const other = await createStepRunner({ ...spec, checkpointed }, microBatch);
    const b = await other.run(inputs);
    await other.release();
    assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.abs(a.loss), `${how}: loss ${a.loss} vs ${b.loss}`);
    for (const name of ['direction', 'indomain', 'offsets_l2']) {
      assert.ok(Math.abs(a.terms[name]! - b.terms[name]!) <= 1e-5 * Math.abs(a.terms[name]!) + 1e-7, `${how}: ${name}`);
    }
    assertClose(b.gradient, { data: a.gradient, shape: [G.domainSize] }, 1e-4, `${how}: gradient`);
  }
  await G.release();
}

it('micro-batched and fused steps agree', async () => {
  await agree('sg2-tiny-a/ckpt.pt', 0.3, [{ microBatch: 2, checkpointed: false }]);
});

it('checkpointed StyleGAN3 steps (layers rebuilt from stored outputs) agree with the fused step', async () => {
  const G = await loadGenerator(`${GOLDENS}sg3t-tiny-a/network-snapshot.pkl`);
  const clip = await loadClip(`${GOLDENS}clip-tiny-a/clip_state_dict.pt`);
  const spec = { generator: G, clips: [{ weights: clip.weights, weight: 1 }], batch: 1, losses: { direction: 1 }, checkpointed: true };
  const stored = buildAdaptedVjpGraph(spec, 1).inputs.filter((v) => v.name.startsWith('adapted_layer_'));
  assert.equal(stored.length, G.description.layers.length, 'the VJP graph takes every layer\'s output as an input');
  await Promise.all([G.release(), clip.release()]);
  for (const set of ['sg3t-tiny-a', 'sg3r-tiny-a']) {
    await agree(`${set}/network-snapshot.pkl`, 0.3, [{ microBatch: 2, checkpointed: true }, { microBatch: 4, checkpointed: true }]);
  }
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
