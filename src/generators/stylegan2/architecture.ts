/**
 * The format-neutral StyleGAN2 generator: every checkpoint layout (rosinality `.pt`, NVIDIA `.pkl`) is
 * mapped onto these weights, with the equalised-learning-rate gains already folded in, so one graph
 * builder serves them all. Names follow rosinality's model.py; the domain-vector layers are the
 * demodulated convs (`conv1`, `convs.0`, `convs.1`, …).
 */
import type { Tensor } from '../../core/tensor.js';

export interface DenseWeights {
  /** [out, in], gain folded in. */
  weight: Tensor;
  /** [out], gain folded in. */
  bias: Float32Array;
}

export interface StyledConvWeights {
  /** Domain-file tensor name: `conv1`, `convs.0`, … */
  name: string;
  inChannels: number;
  outChannels: number;
  /** Output resolution. */
  resolution: number;
  upsample: boolean;
  /** W → style s [in]. */
  affine: DenseWeights;
  /** [out, in, 3, 3]; its scale cancels in demodulation but is kept for the 1e-8 epsilon. */
  weight: Tensor;
  noiseStrength: number;
  /** The stored noise buffer [resolution, resolution] used by noise mode `const`. */
  noiseConst: Float32Array;
  /** [out] */
  bias: Float32Array;
}

export interface ToRgbWeights {
  inChannels: number;
  resolution: number;
  /** W → style, with the 1x1 conv's weight gain folded into the style. */
  affine: DenseWeights;
  /** [3, in, 1, 1] */
  weight: Tensor;
  /** [3] */
  bias: Float32Array;
}

export interface StyleGAN2 {
  /** Output resolution, e.g. 1024. */
  size: number;
  /** z and w dimension (they are equal in every supported checkpoint). */
  styleDim: number;
  /** Rows of W+: 2·log2(size) − 2. */
  nLatent: number;
  /** Channels per resolution. */
  channels: Record<number, number>;
  /** Pixel-norm + these dense layers with fused leaky ReLU make the mapping network. */
  mapping: DenseWeights[];
  /** Mean W, for truncation; undefined when the checkpoint has none (then it is estimated). */
  wAvg?: Float32Array;
  /** [C4, 4, 4] learned constant input. */
  constInput: Tensor;
  /** conv1, convs.0, convs.1, … in synthesis order. */
  convs: StyledConvWeights[];
  /** to_rgb1, to_rgbs.0, … in synthesis order. */
  toRgbs: ToRgbWeights[];
  /** NVIDIA's activation clamp (often 256); null means none. */
  convClamp: number | null;
}

export function parameterCount(g: StyleGAN2): number {
  const dense = (d: DenseWeights) => d.weight.data.length + d.bias.length;
  let n = g.constInput.data.length + g.mapping.reduce((s, d) => s + dense(d), 0);
  for (const c of g.convs) n += dense(c.affine) + c.weight.data.length + 1 + c.bias.length;
  for (const t of g.toRgbs) n += dense(t.affine) + t.weight.data.length + t.bias.length;
  return n;
}

/** The standard config-f channel table: min(32768 · multiplier / res, 512). */
export function configFChannels(size: number, channelMultiplier = 2): Record<number, number> {
  const table: Record<number, number> = {};
  for (let res = 4; res <= size; res *= 2) {
    table[res] = res <= 32 ? 512 : Math.min(512, (16384 * channelMultiplier) / res);
  }
  return table;
}
