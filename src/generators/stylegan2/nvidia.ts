/**
 * NVIDIA stylegan2-ada-pytorch `Generator` (G_ema of a network pickle) → the format-neutral generator.
 * Gains folded as NVIDIA applies them: FullyConnectedLayer weight × lr/sqrt(in), bias × lr; ToRGB styles
 * × 1/sqrt(in). SynthesisLayer weights stay unscaled: NVIDIA demodulates the raw weight.
 * Class-conditional and StyleGAN3 generators (generators/stylegan3/ reads those) are recognised and refused.
 * The init kwargs are checked to describe a generator, and every tensor read against the shapes they and
 * the tensors before imply.
 */
import type { NvidiaNetwork } from '../../io/nvidia-pkl.js';
import { describeValue } from '../../io/pickle.js';
import { floatTensor, type ShapePattern } from '../../io/named-tensors.js';
import { fullyConnected, mappingLayers, positiveInteger, positiveNumber } from '../nvidia-layers.js';
import type { DenseWeights, StyleGAN2, StyledConvWeights, ToRgbWeights } from './architecture.js';

function kwargs(net: NvidiaNetwork, key: string): Record<string, unknown> {
  const v = net.initKwargs[key];
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

export function fromNvidia(net: NvidiaNetwork): StyleGAN2 {
  const t = net.tensors;
  const take = (name: string, shape: ShapePattern) => floatTensor(t, name, shape);
  if ([...t.keys()].some((k) => k.startsWith('synthesis.input.') || /^synthesis\.L\d+_/.test(k))) {
    throw new Error('this is a StyleGAN3 generator, not StyleGAN2 (the stylegan3 family reads it)');
  }
  const cDim = net.initKwargs.c_dim ?? 0;
  if (cDim !== 0 || t.has('mapping.embed.weight')) {
    throw new Error(`this generator is class-conditional (c_dim ${describeValue(cDim)}); ganvec supports unconditional generators for now`);
  }
  const synthesisKwargs = kwargs(net, 'synthesis_kwargs');
  const architecture = synthesisKwargs.architecture ?? 'skip';
  if (architecture !== 'skip') throw new Error(`synthesis architecture ${describeValue(architecture)} is not supported (only "skip", as in config-f)`);
  const lrMul = positiveNumber(kwargs(net, 'mapping_kwargs').lr_multiplier ?? 0.01, 'mapping lr_multiplier');
  const clamp = synthesisKwargs.conv_clamp ?? null;
  const convClamp = clamp === null ? null : positiveNumber(clamp, 'conv_clamp');
  const styleDim = positiveInteger(net.initKwargs.w_dim, 'w_dim');
  if (positiveInteger(net.initKwargs.z_dim, 'z_dim') !== styleDim) throw new Error('z_dim differs from w_dim: not supported');
  const size = net.initKwargs.img_resolution;
  if (!Number.isSafeInteger(size) || (size as number) < 4 || Math.log2(size as number) % 1 !== 0) {
    throw new Error(`img_resolution ${describeValue(size)} is not a power of two ≥ 4`);
  }
  if (t.has(`synthesis.b${2 * (size as number)}.torgb.weight`)) {
    throw new Error(`its init kwargs say img_resolution ${size as number} but it has layers for ${2 * (size as number)}`);
  }

  const fc = (name: string, out: number | undefined, inFeatures: number, lr: number, extraGain = 1): DenseWeights =>
    fullyConnected(t, name, out, inFeatures, lr, extraGain);
  const mapping = mappingLayers(t, styleDim, styleDim, lrMul);
  const constInput = take('synthesis.b4.const', [undefined, 4, 4]);
  const channels: Record<number, number> = { 4: constInput.shape[0]! };

  const styled = (block: number, layer: 'conv0' | 'conv1', name: string, inC: number): StyledConvWeights => {
    const p = `synthesis.b${block}.${layer}`;
    const weight = take(`${p}.weight`, [undefined, inC, 3, 3]);
    const out = weight.shape[0]!;
    channels[block] = out;
    return {
      name,
      inChannels: inC,
      outChannels: out,
      resolution: block,
      upsample: layer === 'conv0',
      affine: fc(`${p}.affine`, inC, styleDim, 1),
      weight,
      noiseStrength: take(`${p}.noise_strength`, []).data[0]!,
      noiseConst: take(`${p}.noise_const`, [block, block]).data,
      bias: take(`${p}.bias`, [out]).data,
    };
  };
  const toRgb = (block: number): ToRgbWeights => {
    const p = `synthesis.b${block}.torgb`;
    const inC = channels[block]!;
    const weight = take(`${p}.weight`, [3, inC, 1, 1]);
    return { inChannels: inC, resolution: block, affine: fc(`${p}.affine`, inC, styleDim, 1, 1 / Math.sqrt(inC)), weight, bias: take(`${p}.bias`, [3]).data };
  };

  const convs = [styled(4, 'conv1', 'conv1', channels[4]!)];
  const toRgbs = [toRgb(4)];
  for (let res = 8, k = 0; res <= (size as number); res *= 2, k += 2) {
    convs.push(styled(res, 'conv0', `convs.${k}`, channels[res / 2]!));
    convs.push(styled(res, 'conv1', `convs.${k + 1}`, channels[res]!));
    toRgbs.push(toRgb(res));
  }
  return {
    size: size as number,
    styleDim,
    nLatent: 2 * Math.log2(size as number) - 2,
    channels,
    mapping,
    wAvg: t.has('mapping.w_avg') ? take('mapping.w_avg', [styleDim]).data : undefined,
    constInput,
    convs,
    toRgbs,
    convClamp,
  };
}
