/** Generation speed: config-f StyleGAN2 with random weights of the real shapes (DESIGN.md §3). */
import { fromRosinality } from '../src/generators/stylegan2/rosinality.js';
import { randomRosinalityStateDict } from '../src/generators/stylegan2/random-weights.js';
import { Generator } from '../src/generators/generator.js';
import { stylegan2 } from '../src/generators/stylegan2/family.js';
import { zFromSeeds } from '../src/generators/latents.js';
import { timeRuns, type BenchRow } from './measure.js';

export async function benchGenerate(size: number, batch: number): Promise<BenchRow[]> {
  const arch = fromRosinality(randomRosinalityStateDict({ size }));
  const G = new Generator(stylegan2, arch, { format: 'random', path: '-', fingerprint: '-' }, { batch });
  const z = zFromSeeds(Array.from({ length: batch }, (_, i) => i), arch.styleDim);
  const w = await G.mapping(z);
  const seconds = await timeRuns(() => G.synthesize({ w, noise: 'random' }), batch >= 4 ? 2 : 3);
  await G.release();
  return [{ name: `generate ${size}px batch ${batch}`, value: seconds / batch, unit: 's/image' }];
}
