/**
 * A new loss is one object and one registration: a pixel loss (it consumes the images, which no built-in
 * loss does) is registered here, trained through the fused and the micro-batched step, and its value is
 * checked against the images computed on their own.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { reduceMean, square, sub } from '../src/engine/ops.js';
import { sampleInputs, toWPlus } from '../src/generators/latents.js';
import { loadClip, loadGenerator } from '../src/registry/load.js';
import type { ImageLoss } from '../src/losses/loss.js';
import { lossNames, registerLoss } from '../src/losses/registry.js';
import { RandomState } from '../src/core/random-state.js';
import { createStepRunner } from '../src/train/step-runner.js';
import { textDirection } from '../src/train/text-direction.js';
import { assertClose, GOLDENS } from './helpers/golden.js';

/** mean over pixels of (B − A)², per sample. */
const pixelL2: ImageLoss = {
  name: 'pixel_l2', consumes: 'images', defaultWeight: 0, minBatch: 1,
  build: ({ frozen, adapted }) => reduceMean(square(sub(adapted, frozen)), [1, 2, 3]),
};

it('a registered image loss trains through fused and micro-batched steps with the same value', async () => {
  registerLoss(pixelL2);
  assert.ok(lossNames().includes('pixel_l2'));
  assert.throws(() => registerLoss(pixelL2), /already registered/);

  const G = await loadGenerator(`${GOLDENS}sg2-tiny-a/ckpt.pt`, { batch: 4 });
  const clip = await loadClip(`${GOLDENS}clip-tiny-a/clip_state_dict.pt`);
  const direction = await textDirection(clip, 'pixar', 'photo');
  const batch = 4;
  const spec = { generator: G, clips: [{ weights: clip.weights, weight: 1 }], batch, losses: { direction: 1, pixel_l2: 3 } };
  const rng = new RandomState(8);
  const call = (noiseSeed: number) => ({
    ws: toWPlus({ data: rng.randn(batch * G.styleDim), shape: [batch, G.styleDim] }, G.nLatent),
    samples: sampleInputs(G.sampleInputs, batch, 'random', noiseSeed),
  });
  const inputs = { frozen: call(1), adapted: call(9), vector: rng.randn(G.domainSize).map((x) => 0.2 * x), directions: [direction] };

  const fused = await createStepRunner(spec, batch);
  const micro = await createStepRunner(spec, 1);
  const a = await fused.run(inputs);
  const b = await micro.run(inputs);
  await Promise.all([fused.release(), micro.release()]);

  // The images on their own: the same W+, and the same noise maps (sampleInputs with the same seeds).
  const frozen = await G.synthesize({ w: inputs.frozen.ws, noise: 'random', noiseSeed: 1 });
  const adapted = await G.synthesize({ w: inputs.adapted.ws, domain: inputs.vector, noise: 'random', noiseSeed: 9 });
  const expected = frozen.data.reduce((sum, x, i) => sum + (adapted.data[i]! - x) ** 2, 0) / frozen.data.length;
  assert.ok(Math.abs(a.terms.pixel_l2! - expected) <= 1e-4 * expected, `pixel_l2 ${a.terms.pixel_l2} vs ${expected} from the images`);
  assert.ok(a.terms.pixel_l2! > 0);
  assert.ok(Math.abs(a.loss - (a.terms.direction! + 3 * a.terms.pixel_l2!)) <= 1e-5 * a.loss, 'the loss is the weighted sum of its terms');
  for (const name of ['direction', 'pixel_l2']) assert.ok(Math.abs(a.terms[name]! - b.terms[name]!) <= 1e-5 * Math.abs(a.terms[name]!), `${name}: ${a.terms[name]} vs ${b.terms[name]}`);
  assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * a.loss, `loss ${a.loss} vs ${b.loss}`);
  assertClose(b.gradient, { data: a.gradient, shape: [G.domainSize] }, 1e-4, 'gradient');
  await Promise.all([G.release(), clip.release()]);
});
