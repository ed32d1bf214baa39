/**
 * StyleGAN3-T and -R at 1024 px with random weights of the real shapes (generators/stylegan3/random-weights.ts):
 * generation and one adaptation step (adapt-step.ts, the same step as StyleGAN2's).
 */
import { Generator } from '../src/generators/generator.js';
import { zFromSeeds } from '../src/generators/latents.js';
import { stylegan3 } from '../src/generators/stylegan3/family.js';
import { randomStyleGAN3 } from '../src/generators/stylegan3/random-weights.js';
import { benchAdaptStep } from './adapt-step.js';
import { timeRuns, type BenchRow } from './measure.js';

type Config = 'stylegan3-t' | 'stylegan3-r';
const TITLE: Record<Config, string> = { 'stylegan3-t': 'StyleGAN3-T', 'stylegan3-r': 'StyleGAN3-R' };

function generator(config: Config, size: number, batch = 1): Generator {
  // Without the arena ONNX Runtime returns each large FIR intermediate as it is done (StyleGAN3 has 1.5 GB ones).
  return new Generator(stylegan3, randomStyleGAN3({ size, config }), { format: 'random', path: '-', fingerprint: '-' }, { batch, memoryArena: false });
}

export async function benchGenerateSG3(config: Config, size: number, batch: number): Promise<BenchRow[]> {
  const G = generator(config, size, batch);
  const w = await G.mapping(zFromSeeds(Array.from({ length: batch }, (_, i) => i), G.styleDim));
  const seconds = await timeRuns(() => G.synthesize({ w }), 1);
  await G.release();
  return [{ name: `generate ${TITLE[config]} ${size}px batch ${batch}`, value: seconds / batch, unit: 's/image' }];
}

export function benchAdaptStepSG3(config: Config, size: number, batch: number): Promise<BenchRow[]> {
  return benchAdaptStep(size, batch, 'default', generator(config, size), `${TITLE[config]} `);
}
