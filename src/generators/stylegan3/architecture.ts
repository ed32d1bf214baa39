/**
 * The format-neutral StyleGAN3 generator (NVlabs/stylegan3 `training/networks_stylegan3.py`, configs
 * stylegan3-t and stylegan3-r) and the layer plan its SynthesisNetwork derives from a few hyperparameters:
 * cutoffs and stopbands in a geometric progression, sampling rates, sizes with a margin, channels,
 * up/down factors and the filtered leaky ReLU's paddings. The FIR filters themselves are read from the
 * pickle's buffers (no filter design is needed to run a network).
 */
import type { Tensor } from '../../core/tensor.js';

export interface DenseWeights {
  /** [out, in], gain folded in. */
  weight: Tensor;
  /** [out], gain folded in. */
  bias: Float32Array;
}

/** An upsampling or downsampling FIR: separable taps [k] or a 2-D (radial) filter [k, k]; null = identity. */
export type Fir = Tensor | null;

/** One SynthesisLayer as the plan describes it (everything but weights). */
export interface LayerPlan {
  /** `L0_36_512`: index, output size, output channels. */
  name: string;
  isToRgb: boolean;
  criticallySampled: boolean;
  inChannels: number;
  outChannels: number;
  inSize: number;
  outSize: number;
  inSamplingRate: number;
  outSamplingRate: number;
  convKernel: number;
  up: number;
  down: number;
  upTaps: number;
  downTaps: number;
  downRadial: boolean;
  /** Filtered leaky ReLU padding of the upsampled image [x0, x1, y0, y1]; negative crops. */
  padding: [number, number, number, number];
}

export interface SynthesisInputPlan {
  channels: number;
  size: number;
  samplingRate: number;
  bandwidth: number;
}

export interface Plan {
  input: SynthesisInputPlan;
  layers: LayerPlan[];
}

/** The SynthesisNetwork and SynthesisLayer hyperparameters, with the reference's defaults. */
export interface Hyperparameters {
  resolution: number;
  imgChannels: number;
  channelBase: number;
  channelMax: number;
  numLayers: number;
  numCritical: number;
  firstCutoff: number;
  firstStopband: number;
  lastStopbandRel: number;
  marginSize: number;
  convKernel: number;
  filterSize: number;
  lreluUpsampling: number;
  useRadialFilters: boolean;
}

export const DEFAULT_HYPERPARAMETERS: Omit<Hyperparameters, 'resolution'> = {
  imgChannels: 3,
  channelBase: 32768,
  channelMax: 512,
  numLayers: 14,
  numCritical: 2,
  firstCutoff: 2,
  firstStopband: 2 ** 2.1,
  lastStopbandRel: 2 ** 0.3,
  marginSize: 10,
  convKernel: 3,
  filterSize: 6,
  lreluUpsampling: 2,
  useRadialFilters: false,
};

/** numpy.rint: to the nearest integer, halves to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** SynthesisNetwork.__init__ and SynthesisLayer.__init__'s arithmetic, in float64 as NumPy does it. */
export function layerPlan(h: Hyperparameters): Plan {
  const n = h.numLayers;
  const lastCutoff = h.resolution / 2;
  const lastStopband = lastCutoff * h.lastStopbandRel;
  const idx = Array.from({ length: n + 1 }, (_, i) => i);
  const exponents = idx.map((i) => Math.min(i / (n - h.numCritical), 1));
  const cutoffs = exponents.map((e) => h.firstCutoff * (lastCutoff / h.firstCutoff) ** e);
  const stopbands = exponents.map((e) => h.firstStopband * (lastStopband / h.firstStopband) ** e);
  const rates = stopbands.map((s) => 2 ** Math.ceil(Math.log2(Math.min(s * 2, h.resolution))));
  const sizes = rates.map((r, i) => (i >= n - 1 ? h.resolution : r + h.marginSize * 2));
  const channels = cutoffs.map((c, i) => (i === n ? h.imgChannels : rint(Math.min(h.channelBase / 2 / c, h.channelMax))));

  const layers = idx.map((i): LayerPlan => {
    const prev = Math.max(i - 1, 0);
    const isToRgb = i === n;
    const criticallySampled = i >= n - h.numCritical;
    const inRate = rates[prev]!;
    const outRate = rates[i]!;
    const tmpRate = Math.max(inRate, outRate) * (isToRgb ? 1 : h.lreluUpsampling);
    const up = rint(tmpRate / inRate);
    const down = rint(tmpRate / outRate);
    const upTaps = up > 1 && !isToRgb ? h.filterSize * up : 1;
    const downTaps = down > 1 && !isToRgb ? h.filterSize * down : 1;
    const convKernel = isToRgb ? 1 : h.convKernel;
    const inSize = sizes[prev]!;
    const outSize = sizes[i]!;
    // Desired size before downsampling − size after upsampling + what the filters take away.
    const padTotal = (outSize - 1) * down + 1 - (inSize + convKernel - 1) * up + upTaps + downTaps - 2;
    const lo = Math.floor((padTotal + up) / 2); // the symmetric interpretation (Appendix C.3)
    const hi = padTotal - lo;
    return {
      name: `L${i}_${outSize}_${channels[i]!}`,
      isToRgb,
      criticallySampled,
      inChannels: channels[prev]!,
      outChannels: channels[i]!,
      inSize,
      outSize,
      inSamplingRate: inRate,
      outSamplingRate: outRate,
      convKernel,
      up,
      down,
      upTaps,
      downTaps,
      downRadial: h.useRadialFilters && !criticallySampled,
      padding: [lo, hi, lo, hi],
    };
  });
  return { input: { channels: channels[0]!, size: sizes[0]!, samplingRate: rates[0]!, bandwidth: cutoffs[0]! }, layers };
}

export interface SynthesisLayerWeights extends LayerPlan {
  /** W → style s [in]; for the ToRGB layer its weight gain 1/sqrt(in·k²) is folded in. */
  affine: DenseWeights;
  /** [out, in, k, k] as stored (pre-normalised in the graph). */
  weight: Tensor;
  /** [out] */
  bias: Float32Array;
  /** The tracked mean square of the layer's input; the input is scaled by its rsqrt. */
  magnitudeEma: number;
  upFilter: Fir;
  downFilter: Fir;
}

export interface SynthesisInputWeights extends SynthesisInputPlan {
  /** W → (r_c, r_s, t_x, t_y). */
  affine: DenseWeights;
  /** [channels, channels], the 1/sqrt(channels) gain folded in. */
  weight: Tensor;
  /** [channels, 2] */
  freqs: Tensor;
  /** [channels] */
  phases: Float32Array;
  /** The user-specified inverse transform wrt. the image, [3, 3] row-major. */
  transform: Float32Array;
}

export interface StyleGAN3 {
  /** `stylegan3-t` (3x3 convs), `stylegan3-r` (1x1 convs, radial filters), or another mix of the two. */
  config: 'stylegan3-t' | 'stylegan3-r' | 'stylegan3-custom';
  hyperparameters: Hyperparameters;
  size: number;
  zDim: number;
  wDim: number;
  /** Rows of W+: num_layers + 2 (the input, then one per layer). */
  nLatent: number;
  /** Pixel norm + these dense layers with lrelu·√2. */
  mapping: DenseWeights[];
  wAvg?: Float32Array;
  input: SynthesisInputWeights;
  layers: SynthesisLayerWeights[];
  /** Clamp of every layer's output; null = none. */
  convClamp: number | null;
  /** The image is multiplied by it at the end (0.25 in the reference). */
  outputScale: number;
}

export function parameterCount(g: StyleGAN3): number {
  const dense = (d: DenseWeights) => d.weight.data.length + d.bias.length;
  let n = g.mapping.reduce((s, d) => s + dense(d), 0) + dense(g.input.affine) + g.input.weight.data.length;
  for (const l of g.layers) n += dense(l.affine) + l.weight.data.length + l.bias.length;
  return n;
}
