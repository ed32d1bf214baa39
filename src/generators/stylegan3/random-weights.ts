/**
 * A StyleGAN3 generator of random weights in the real shapes of NVIDIA's configs (for benchmarks; the
 * real pickles cannot be fetched here): the layer plan of train.py's stylegan3-t (channel base 32768,
 * max 512, 3x3 convs) or stylegan3-r (65536, 1024, 1x1 convs, radial filters), z/w 512, two mapping
 * layers. Weights are N(0, 1) as the reference initialises them; the filters are Hann-windowed sinc
 * low-passes of the plan's tap counts (the reference designs Kaiser and jinc filters: the same sizes and
 * cost, not the same values).
 */
import { RandomState } from '../../core/random-state.js';
import type { Tensor } from '../../core/tensor.js';
import type { DenseWeights, Fir, StyleGAN3, SynthesisLayerWeights } from './architecture.js';
import { DEFAULT_HYPERPARAMETERS, layerPlan } from './architecture.js';

export interface RandomStyleGAN3Config {
  size: number;
  config: 'stylegan3-t' | 'stylegan3-r';
  wDim?: number;
  seed?: number;
}

/** A normalised Hann-windowed sinc of `taps` taps, cutting off at a quarter of the sampling rate. */
function lowpass(taps: number): Float32Array {
  const f = Float32Array.from({ length: taps }, (_, i) => {
    const x = i - (taps - 1) / 2;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x * 0.5) / (Math.PI * x * 0.5);
    return sinc * (0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / taps));
  });
  const sum = f.reduce((s, v) => s + v, 0);
  return f.map((v) => v / sum);
}

function filter(taps: number, radial: boolean): Fir {
  if (taps === 1) return null;
  const f = lowpass(taps);
  if (!radial) return { data: f, shape: [taps] };
  const f2 = new Float32Array(taps * taps);
  for (let i = 0; i < taps; i++) for (let j = 0; j < taps; j++) f2[i * taps + j] = f[i]! * f[j]!;
  return { data: f2, shape: [taps, taps] };
}

export function randomStyleGAN3(c: RandomStyleGAN3Config): StyleGAN3 {
  const rng = new RandomState(c.seed ?? 0);
  const wDim = c.wDim ?? 512;
  const r = c.config === 'stylegan3-r';
  const h = {
    ...DEFAULT_HYPERPARAMETERS,
    resolution: c.size,
    channelBase: r ? 65536 : 32768,
    channelMax: r ? 1024 : 512,
    convKernel: r ? 1 : 3,
    useRadialFilters: r,
  };
  const plan = layerPlan(h);
  const randn = (shape: number[], scale = 1): Tensor => ({ data: rng.randn(shape.reduce((a, b) => a * b, 1)).map((x) => x * scale), shape });
  const dense = (out: number, inF: number, bias: number, gain = 1): DenseWeights => ({
    weight: randn([out, inF], gain / Math.sqrt(inF)),
    bias: new Float32Array(out).fill(bias * gain),
  });
  const c0 = plan.input.channels;
  const layers = plan.layers.map((p): SynthesisLayerWeights => ({
    ...p,
    affine: dense(p.inChannels, wDim, 1, p.isToRgb ? 1 / Math.sqrt(p.inChannels * p.convKernel ** 2) : 1),
    weight: randn([p.outChannels, p.inChannels, p.convKernel, p.convKernel]),
    bias: new Float32Array(p.outChannels),
    magnitudeEma: 1,
    upFilter: filter(p.upTaps, false),
    downFilter: filter(p.downTaps, p.downRadial),
  }));
  const freqs = randn([c0, 2]);
  return {
    config: c.config,
    hyperparameters: h,
    size: c.size,
    zDim: wDim,
    wDim,
    nLatent: h.numLayers + 2,
    mapping: [dense(wDim, wDim, 0), dense(wDim, wDim, 0)],
    input: {
      ...plan.input,
      affine: { weight: { data: new Float32Array(4 * wDim), shape: [4, wDim] }, bias: Float32Array.of(1, 0, 0, 0) },
      weight: randn([c0, c0], 1 / Math.sqrt(c0)),
      freqs: { data: freqs.data.map((x) => x * plan.input.bandwidth * 0.5), shape: [c0, 2] },
      phases: Float32Array.from({ length: c0 }, () => rng.random() - 0.5),
      transform: Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1),
    },
    layers,
    convClamp: 256,
    outputScale: 0.25,
  };
}
