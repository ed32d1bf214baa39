/**
 * Latent codes on the host: seeded z, truncation, style mixing into W+, and per-layer noise.
 * These are a few thousand floats; doing them in TypeScript keeps the graphs small and the modes free.
 */
import type { Tensor } from '../../engine/tensor.js';
import { RandomState } from '../../random/random-state.js';

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
 * Noise inputs [N, 1, R, R] for each styled conv. `random`: image i draws N(0, 1) for its layers, in
 * order, from RandomState(seed + i), so an image's noise does not depend on how a run is split in batches.
 */
export function noiseInputs(
  layers: ReadonlyArray<{ resolution: number; noiseConst: Float32Array }>,
  batch: number,
  mode: NoiseMode,
  seed = 0,
): Tensor[] {
  const tensors = layers.map(({ resolution: r }) => ({ data: new Float32Array(batch * r * r), shape: [batch, 1, r, r] }));
  for (let i = 0; i < batch; i++) {
    const rng = mode === 'random' ? new RandomState((seed + i) >>> 0) : undefined;
    layers.forEach(({ resolution: r, noiseConst }, k) => {
      if (mode === 'const') tensors[k]!.data.set(noiseConst, i * r * r);
      if (rng) tensors[k]!.data.set(rng.randn(r * r), i * r * r);
    });
  }
  return tensors;
}
