/**
 * Latent codes on the host, for every generator family: seeded z, truncation, style mixing into W+, and
 * the per-sample inputs (StyleGAN2's noise maps) in a noise mode.
 * These are a few thousand floats; doing them in TypeScript keeps the graphs small and the modes free.
 */
import { numel, type Tensor } from '../core/tensor.js';
import { RandomState } from '../core/random-state.js';
import { NormalStream } from '../core/normal-stream.js';
import type { SampleInput } from './family.js';

/**
 * z for each seed: `numpy.random.RandomState(seed).randn(1, dim)`, as NVIDIA's generate.py draws it,
 * so a seed gives the same image here, in NVIDIA's scripts and on every machine.
 */
export function zFromSeeds(seeds: readonly number[], dim: number): Tensor {
  const data = new Float32Array(seeds.length * dim);
  seeds.forEach((seed, i) => data.set(new RandomState(seed).randn(dim), i * dim));
  return { data, shape: [seeds.length, dim] };
}

/** w_avg + ψ·(w − w_avg), row by row; W [N, D] or W+ [N, L, D]. */
export function truncate(w: Tensor, wAvg: Float32Array, psi: number): Tensor {
  if (psi === 1) return w;
  const d = wAvg.length;
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < out.length; i++) out[i] = wAvg[i % d]! + psi * (w.data[i]! - wAvg[i % d]!);
  return { data: out, shape: [...w.shape] };
}

/** W [N, D] → W+ [N, L, D] with identical rows; W+ passes through. */
export function toWPlus(w: Tensor, nLatent: number): Tensor {
  if (w.shape.length === 3) {
    if (w.shape[1] !== nLatent) throw new Error(`W+ has ${w.shape[1]} rows; this generator needs ${nLatent}`);
    return w;
  }
  const [n, d] = w.shape as [number, number];
  const out = new Float32Array(n * nLatent * d);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < nLatent; l++) out.set(w.data.subarray(i * d, (i + 1) * d), (i * nLatent + l) * d);
  }
  return { data: out, shape: [n, nLatent, d] };
}

/** Style mixing: rows [0, k) from the first W+, rows [k, L) from the second. */
export function mixStyles(first: Tensor, second: Tensor, k: number): Tensor {
  const [n, l, d] = first.shape as [number, number, number];
  const out = new Float32Array(first.data);
  for (let i = 0; i < n; i++) {
    const from = (i * l + k) * d;
    out.set(second.data.subarray(from, (i + 1) * l * d), from);
  }
  return { data: out, shape: [n, l, d] };
}

export type NoiseMode = 'const' | 'random' | 'none';

/**
 * The per-sample inputs [N, ...shape] (StyleGAN2: a noise map [N, 1, R, R] per synthesis conv). `const`: the
 * stored values; `none`: zeros; `random`: image i draws N(0, 1) for its inputs, in order, from
 * NormalStream(seed + i), so an image's noise does not depend on how a run is split in batches. (The noise
 * maps of a 1024 px image are 2.8 million normals: 0.29 s from NumPy's RandomState, which only z needs.)
 */
export function sampleInputs(inputs: readonly SampleInput[], batch: number, mode: NoiseMode, seed = 0): Tensor[] {
  const tensors = inputs.map(({ shape }) => ({ data: new Float32Array(batch * numel(shape)), shape: [batch, ...shape] }));
  for (let i = 0; i < batch; i++) {
    const stream = mode === 'random' ? new NormalStream((seed + i) >>> 0) : undefined;
    inputs.forEach(({ shape, constant }, k) => {
      const size = numel(shape);
      if (mode === 'const' && constant) tensors[k]!.data.set(constant, i * size);
      if (stream) stream.fill(tensors[k]!.data.subarray(i * size, (i + 1) * size));
    });
  }
  return tensors;
}
