/**
 * Training latents: each step draws from its own RandomState seeded by (seed, step), so a resumed run
 * sees exactly the latents the uninterrupted run would have seen, with no RNG state to save.
 */
import type { Tensor } from '../engine/tensor.js';
import type { NoiseMode } from '../models/stylegan2/latents.js';
import { mixStyles, toWPlus } from '../models/stylegan2/latents.js';
import type { Generator } from '../models/stylegan2/generator.js';
import { RandomState } from '../random/random-state.js';

export interface StepLatents {
  /** W+ [B, L, D] */
  ws: Tensor;
  noise: NoiseMode;
  noiseSeed: number;
}

export function stepSeed(seed: number, step: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) + Math.imul(step, 0x85ebca6b)) >>> 0;
}

/** With probability `mixing`, rows [k, L) come from a second latent, k uniform in [1, L). */
export async function sampleStepLatents(G: Generator, batch: number, seed: number, step: number, mixing: number): Promise<StepLatents> {
  const rng = new RandomState(stepSeed(seed, step));
  const z = (): Tensor => ({ data: rng.randn(batch * G.styleDim), shape: [batch, G.styleDim] });
  let ws = toWPlus(await G.mapping(z()), G.nLatent);
  if (rng.random() < mixing) {
    const second = toWPlus(await G.mapping(z()), G.nLatent);
    ws = mixStyles(ws, second, 1 + Math.floor(rng.random() * (G.nLatent - 1)));
  }
  return { ws, noise: 'random', noiseSeed: Math.floor(rng.random() * 0xffffffff) };
}
