/**
 * What a training step draws at random, as HyperDomainNet's `td_single` trainer draws it (DESIGN.md §5):
 * one z per sample, and with probability `mixing` a second z; then the frozen generator A and the
 * adapted generator B are two separate calls, and each call draws its own style-mixing crossover and its
 * own noise maps (rosinality's `inject_index=None`, `randomize_noise=True`). So A and B differ even at
 * d = 0 and the first edit E(B) − E(A) is never the exactly-zero vector whose normalisation would blow
 * the first gradient up ~1e8 times and fill Adam's second moment with it (what ganvec 0.1 did).
 *
 * A DrawSource hands out each step's draws: seeded (`seededDraws`, a RandomState per (seed, step) for the
 * latents and the crossovers and a NormalStream seeded from it for the noise maps, so a
 * resumed run sees what the uninterrupted run would have seen), or replayed from a file (draws-file.ts).
 */
import { numel, type Tensor } from '../core/tensor.js';
import { RandomState } from '../core/random-state.js';
import { NormalStream } from '../core/normal-stream.js';

/** The draws of one generator call. */
export interface CallDraws {
  /** W+ rows [0, inject) come from z, rows [inject, nLatent) from z2; nLatent when not mixing. */
  inject: number;
  /** One per per-sample input of the generator (StyleGAN2: a noise map [B, 1, R, R] per conv). */
  noises: Tensor[];
}

export interface StepDraws {
  /** [B, D] */
  z: Tensor;
  /** [B, D], only in steps that mix styles. */
  z2?: Tensor;
  frozen: CallDraws;
  adapted: CallDraws;
}

/** What the draws must fit: the generator's latent width, W+ rows and per-sample inputs. */
export interface DrawShape {
  batch: number;
  styleDim: number;
  nLatent: number;
  /** Shape per sample of each per-sample input (StyleGAN2: [1, R, R] per conv), in synthesis order. */
  sampleShapes: readonly number[][];
}

export interface DrawSource {
  /** The draws of step `step` (0-based). */
  draw(step: number): Promise<StepDraws> | StepDraws;
}

export function stepSeed(seed: number, step: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) + Math.imul(step, 0x85ebca6b)) >>> 0;
}

export function seededDraws(shape: DrawShape, seed: number, mixing: number): DrawSource {
  const { batch, styleDim, nLatent, sampleShapes } = shape;
  return {
    draw(step) {
      const rng = new RandomState(stepSeed(seed, step));
      const z = { data: rng.randn(batch * styleDim), shape: [batch, styleDim] };
      const mixes = mixing > 0 && rng.random() < mixing;
      const z2 = mixes ? { data: rng.randn(batch * styleDim), shape: [batch, styleDim] } : undefined;
      // random.randint(1, n_latent − 1), once per call.
      // The noise maps (millions of values a step at 1024 px) come from a fast stream of their own.
      const noise = new NormalStream(Math.floor(rng.random() * 2 ** 32));
      const call = (): CallDraws => ({
        inject: mixes ? 1 + Math.floor(rng.random() * (nLatent - 1)) : nLatent,
        noises: sampleShapes.map((s) => ({ data: noise.fill(new Float32Array(batch * numel(s))), shape: [batch, ...s] })),
      });
      const frozen = call();
      return { z, z2, frozen, adapted: call() };
    },
  };
}
