/**
 * NVIDIA stylegan3 `Generator` (G_ema of a network pickle) → the format-neutral StyleGAN3 generator.
 * The layer plan is recomputed from the pickled init kwargs (the reference's defaults for what is absent)
 * and every tensor is read against the shapes it implies, so a pickle whose layers disagree with its
 * kwargs is refused rather than run wrong. Gains are folded as the reference applies them:
 * FullyConnectedLayer weight × lr/sqrt(in), bias × lr; ToRGB styles × 1/sqrt(in·k²); the Fourier
 * features' mixing weight × 1/sqrt(channels).
 */
import type { NvidiaNetwork } from '../../io/nvidia-pkl.js';
import { describeValue } from '../../io/pickle.js';
import { floatTensor, type ShapePattern } from '../../io/named-tensors.js';
import { fullyConnected, mappingLayers, positiveInteger, positiveNumber } from '../nvidia-layers.js';
import type { DenseWeights, Fir, Hyperparameters, StyleGAN3, SynthesisLayerWeights } from './architecture.js';
import { DEFAULT_HYPERPARAMETERS, layerPlan } from './architecture.js';

/** Whether an NVIDIA network is a StyleGAN3 generator (its synthesis starts from Fourier features). */
export function isStyleGAN3(net: NvidiaNetwork): boolean {
  return net.tensors.has('synthesis.input.freqs') && net.tensors.has('synthesis.input.affine.weight');
}

export function fromNvidia(net: NvidiaNetwork): StyleGAN3 {
  const t = net.tensors;
  const take = (name: string, shape: ShapePattern) => floatTensor(t, name, shape);
  const k = net.initKwargs;
  const cDim = k.c_dim ?? 0;
  if (cDim !== 0 || t.has('mapping.embed.weight')) {
    throw new Error(`this generator is class-conditional (c_dim ${describeValue(cDim)}); ganvec supports unconditional generators for now`);
  }
  const size = k.img_resolution;
  if (!Number.isSafeInteger(size) || (size as number) < 4 || (size as number) > 8192 || Math.log2(size as number) % 1 !== 0) {
    throw new Error(`img_resolution ${describeValue(size)} is not a power of two from 4 to 8192`);
  }
  const num = (key: string, fallback: number) => positiveNumber(k[key] ?? fallback, key);
  // Bounds far beyond any real network keep a damaged pickle from planning billions of layers or pixels.
  const int = (key: string, fallback: number, max = 64) => {
    const v = positiveInteger(k[key] ?? fallback, key);
    if (v > max) throw new Error(`${key} ${v} is larger than any StyleGAN3 has (at most ${max} here)`);
    return v;
  };
  const d = DEFAULT_HYPERPARAMETERS;
  const h: Hyperparameters = {
    resolution: size as number,
    imgChannels: int('img_channels', d.imgChannels, 4),
    channelBase: num('channel_base', d.channelBase),
    channelMax: num('channel_max', d.channelMax),
    numLayers: int('num_layers', d.numLayers),
    numCritical: int('num_critical', d.numCritical),
    firstCutoff: num('first_cutoff', d.firstCutoff),
    firstStopband: num('first_stopband', d.firstStopband),
    lastStopbandRel: num('last_stopband_rel', d.lastStopbandRel),
    marginSize: k.margin_size === undefined ? d.marginSize : k.margin_size === 0 ? 0 : int('margin_size', d.marginSize, 1024),
    convKernel: int('conv_kernel', d.convKernel, 15),
    filterSize: int('filter_size', d.filterSize),
    lreluUpsampling: int('lrelu_upsampling', d.lreluUpsampling, 8),
    useRadialFilters: k.use_radial_filters === undefined ? d.useRadialFilters : k.use_radial_filters === true,
  };
  if (h.imgChannels !== 3) throw new Error(`img_channels ${h.imgChannels}: only RGB generators are supported`);
  if (h.numCritical >= h.numLayers) throw new Error(`num_critical ${h.numCritical} must be below num_layers ${h.numLayers}`);
  const clamp = k.conv_clamp === undefined ? 256 : k.conv_clamp;
  const convClamp = clamp === null ? null : positiveNumber(clamp, 'conv_clamp');
  const outputScale = typeof k.output_scale === 'number' ? k.output_scale : 0.25;
  const zDim = positiveInteger(k.z_dim, 'z_dim');
  const wDim = positiveInteger(k.w_dim, 'w_dim');
  const mappingKwargs = (k.mapping_kwargs && typeof k.mapping_kwargs === 'object' ? k.mapping_kwargs : {}) as Record<string, unknown>;
  const lrMul = positiveNumber(mappingKwargs.lr_multiplier ?? 0.01, 'mapping lr_multiplier');

  const fc = (name: string, out: number | undefined, inFeatures: number, lr: number, extraGain = 1): DenseWeights =>
    fullyConnected(t, name, out, inFeatures, lr, extraGain);
  const mapping = mappingLayers(t, zDim, wDim, lrMul);
  if (mapping.length === 0) throw new Error('it has no mapping layers (mapping.fc0.weight)');

  const plan = layerPlan(h);
  const c0 = plan.input.channels;
  const inputWeight = take('synthesis.input.weight', [c0, c0]);
  const input = {
    ...plan.input,
    affine: fc('synthesis.input.affine', 4, wDim, 1),
    weight: { data: inputWeight.data.map((x) => x / Math.sqrt(c0)), shape: [c0, c0] },
    freqs: take('synthesis.input.freqs', [c0, 2]),
    phases: take('synthesis.input.phases', [c0]).data,
    transform: t.has('synthesis.input.transform') ? take('synthesis.input.transform', [3, 3]).data : Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1),
  };

  const filter = (name: string, taps: number, radial: boolean): Fir => {
    if (taps === 1) {
      if (t.has(name)) throw new Error(`${name} is stored, but the init kwargs give that layer no filter`);
      return null;
    }
    return take(name, radial ? [taps, taps] : [taps]);
  };
  const layers = plan.layers.map((p): SynthesisLayerWeights => {
    const prefix = `synthesis.${p.name}`;
    if (!t.has(`${prefix}.weight`)) {
      const found = [...t.keys()].filter((n) => /^synthesis\.L\d+_/.test(n) && n.endsWith('.weight') && !n.includes('affine')).join(', ');
      throw new Error(`its init kwargs imply layer ${p.name}, which it does not have (found: ${found || 'none'})`);
    }
    const weight = take(`${prefix}.weight`, [p.outChannels, p.inChannels, p.convKernel, p.convKernel]);
    const rgbGain = p.isToRgb ? 1 / Math.sqrt(p.inChannels * p.convKernel ** 2) : 1;
    const magnitudeEma = take(`${prefix}.magnitude_ema`, []).data[0]!;
    if (!(magnitudeEma > 0)) throw new Error(`${prefix}.magnitude_ema ${magnitudeEma} is not positive`);
    return {
      ...p,
      affine: fc(`${prefix}.affine`, p.inChannels, wDim, 1, rgbGain),
      weight,
      bias: take(`${prefix}.bias`, [p.outChannels]).data,
      magnitudeEma,
      upFilter: filter(`${prefix}.up_filter`, p.upTaps, false),
      downFilter: filter(`${prefix}.down_filter`, p.downTaps, p.downRadial),
    };
  });
  const config = h.convKernel === 1 && h.useRadialFilters ? 'stylegan3-r' : h.convKernel === 3 && !h.useRadialFilters ? 'stylegan3-t' : 'stylegan3-custom';
  return {
    config,
    hyperparameters: h,
    size: size as number,
    zDim,
    wDim,
    nLatent: h.numLayers + 2,
    mapping,
    wAvg: t.has('mapping.w_avg') ? take('mapping.w_avg', [wDim]).data : undefined,
    input,
    layers,
    convClamp,
    outputScale,
  };
}
