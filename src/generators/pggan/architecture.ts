/**
 * The format-neutral Progressive GAN generator (Karras et al., ICLR 2018) as pytorch_GAN_zoo's GNet builds
 * it: z → pixel norm → dense "format layer" to [c0, 4, 4] → scale 0 (one 3x3 conv), then per added scale a
 * nearest 2x upsampling and two 3x3 convs; every conv and the format layer are followed by leaky ReLU and
 * pixel norm; a 1x1 toRGB per scale, and while the last scale is still growing its image is blended with the
 * previous scale's upsampled one: img = α·up(toRGB_{K−1}) + (1 − α)·toRGB_K (α = 0: fully grown).
 * The equalised-learning-rate gains (He's √(2 / fan_in)) multiply weight and bias alike and are folded in.
 * Layer names are GNet's module names (`groupScale0.0`, `scaleLayers.0.0`, `toRGBLayers.2`).
 */
import type { Tensor } from '../../core/tensor.js';

export interface ConvWeights {
  name: string;
  inChannels: number;
  outChannels: number;
  /** Output resolution. */
  resolution: number;
  /** [out, in, k, k] (k = 3 for convs, 1 for toRGB), gain folded in. */
  weight: Tensor;
  /** [out], gain folded in. */
  bias: Float32Array;
}

/** The convs of one scale: scale 0 has one at 4x4, every later scale two after upsampling. */
export interface Scale {
  resolution: number;
  convs: ConvWeights[];
  toRgb: ConvWeights;
}

export interface ProgressiveGAN {
  zDim: number;
  /** [16·c0, zDim] and [16·c0], gain folded in; its output is viewed as [c0, 4, 4]. */
  formatLayer: { weight: Tensor; bias: Float32Array };
  /** Every scale of the checkpoint, 4x4 first. */
  scales: Scale[];
  leakyReluLeak: number;
  /** The checkpoint's fade-in of its last scale (pytorch_GAN_zoo's config.alpha). */
  alpha: number;
  /** tanh on the output (the MSE and DCGAN losses' generationActivation); none for WGANGP and logistic. */
  tanh: boolean;
  /** Which network was read: `avgG` (the moving average the hub samples with) or `netG`. */
  network: 'avgG' | 'netG';
  /** The generation settings (family `configure`): the scale whose toRGB is the output, and its fade-in. */
  output: { scale: number; alpha: number };
}

/** All convs in synthesis order (groupScale0.0, scaleLayers.0.0, scaleLayers.0.1, …). */
export function synthesisConvs(G: ProgressiveGAN): ConvWeights[] {
  return G.scales.flatMap((s) => s.convs);
}

export function parameterCount(G: ProgressiveGAN): number {
  const conv = (c: ConvWeights) => c.weight.data.length + c.bias.length;
  return G.formatLayer.weight.data.length + G.formatLayer.bias.length + G.scales.reduce((n, s) => n + s.convs.reduce((m, c) => m + conv(c), 0) + conv(s.toRgb), 0);
}

/**
 * The paper's channel table (its Table 2, and pytorch_GAN_zoo's default depthScales): 512 up to 32x32, then
 * halving each scale, 256 at 64x64 down to 16 at 1024x1024. One entry per scale, 4x4 first.
 */
export function paperChannels(size: number): number[] {
  const channels: number[] = [];
  for (let res = 4; res <= size; res *= 2) channels.push(Math.min(512, 16384 / res));
  return channels;
}
