/**
 * The Progressive GAN: generation and one adaptation step with random weights in the paper's shapes
 * (channel table 512 up to 32x32, then 256 … 16 at 1024x1024; z 512). It has no noise and one latent row,
 * so the frozen and the adapted call of a step share their input; the step is otherwise the StyleGAN2 one.
 */
import { randomClipWeights } from './clip.js';
import { Generator } from '../src/generators/generator.js';
import { pggan } from '../src/generators/pggan/family.js';
import { randomProgressiveGAN } from '../src/generators/pggan/random-weights.js';
import { zFromSeeds } from '../src/generators/latents.js';
import { createStepRunner } from '../src/train/step-runner.js';
import { RandomState } from '../src/core/random-state.js';
import { timeRuns, type BenchRow } from './measure.js';

function generator(size: number, batch = 1): Generator {
  return new Generator(pggan, randomProgressiveGAN({ size }), { format: 'random', path: '-', fingerprint: '-' }, { batch });
}

export async function benchPgganGenerate(size: number, batch: number): Promise<BenchRow[]> {
  const G = generator(size, batch);
  const z = zFromSeeds(Array.from({ length: batch }, (_, i) => i), G.styleDim);
  const seconds = await timeRuns(() => G.synthesize({ w: z }), batch >= 4 ? 2 : 3);
  await G.release();
  return [{ name: `PGGAN generate ${size}px batch ${batch}`, value: seconds / batch, unit: 's/image' }];
}

export async function benchPgganAdaptStep(size: number, batch: number): Promise<BenchRow[]> {
  const G = generator(size);
  const clip = randomClipWeights('ViT-B/32');
  const step = await createStepRunner({ generator: G, clips: [{ weights: clip, weight: 1 }], batch, losses: { direction: 1, indomain: 0, offsets_l2: 0 } }, batch);
  const rng = new RandomState(0);
  const ws = { data: rng.randn(batch * G.styleDim), shape: [batch, 1, G.styleDim] };
  const inputs = {
    frozen: { ws, samples: [] },
    adapted: { ws, samples: [] },
    vector: rng.randn(G.domainSize).map((x) => 0.01 * x),
    directions: [rng.randn(clip.config.embedDim)],
  };
  const seconds = await timeRuns(() => step.run(inputs), size >= 1024 ? 1 : 2);
  await step.release();
  return [{ name: `PGGAN adapt step ${size}px batch ${batch}, ViT-B/32, direction`, value: seconds, unit: 's/step' }];
}
