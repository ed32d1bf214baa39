/**
 * NVIDIA stylegan2-ada-pytorch `Generator` (G_ema of a network pickle) → the format-neutral generator.
 * Gains folded as NVIDIA applies them: FullyConnectedLayer weight × lr/sqrt(in), bias × lr; ToRGB styles
 * × 1/sqrt(in). SynthesisLayer weights stay unscaled: NVIDIA demodulates the raw weight.
 * Class-conditional and StyleGAN3 generators are recognised and refused.
 */
import type { Tensor } from '../../engine/tensor.js';
import type { NvidiaNetwork } from '../../io/nvidia-pkl.js';
import type { DenseWeights, StyleGAN2, StyledConvWeights, ToRgbWeights } from './architecture.js';

function kwargs(net: NvidiaNetwork, key: string): Record<string, unknown> {
  const v = net.initKwargs[key];
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

export function fromNvidia(net: NvidiaNetwork): StyleGAN2 {
  const t = net.tensors;
  const take = (name: string): Tensor => {
    const x = t.get(name);
    if (!x || !(x.data instanceof Float32Array)) throw new Error(`missing tensor "${name}"`);
    return x as Tensor;
  };
  if ([...t.keys()].some((k) => k.startsWith('synthesis.input.') || /^synthesis\.L\d+_/.test(k))) {
    throw new Error('this is a StyleGAN3 generator; ganvec supports StyleGAN2 networks for now');
  }
  const cDim = Number(net.initKwargs.c_dim ?? 0);
  if (cDim > 0 || t.has('mapping.embed.weight')) {
    throw new Error(`this generator is class-conditional (c_dim ${cDim}); ganvec supports unconditional generators for now`);
  }
  const synthesisKwargs = kwargs(net, 'synthesis_kwargs');
  const architecture = synthesisKwargs.architecture ?? 'skip';
  if (architecture !== 'skip') throw new Error(`synthesis architecture "${String(architecture)}" is not supported (only "skip", as in config-f)`);
  const lrMul = Number(kwargs(net, 'mapping_kwargs').lr_multiplier ?? 0.01);

  const fc = (name: string, lr: number, extraGain = 1): DenseWeights => {
    const w = take(`${name}.weight`);
    const gain = (lr / Math.sqrt(w.shape[1]!)) * extraGain;
    return { weight: { data: w.data.map((x) => x * gain), shape: [...w.shape] }, bias: take(`${name}.bias`).data.map((x) => x * lr * extraGain) };
  };

  const mapping: DenseWeights[] = [];
  for (let i = 0; t.has(`mapping.fc${i}.weight`); i++) mapping.push(fc(`mapping.fc${i}`, lrMul));
  const constInput = take('synthesis.b4.const');
  const size = Number(net.initKwargs.img_resolution);
  const styleDim = Number(net.initKwargs.w_dim ?? mapping[0]?.weight.shape[0]);
  if (Number(net.initKwargs.z_dim) !== styleDim) throw new Error('z_dim differs from w_dim: not supported');
  const channels: Record<number, number> = { 4: constInput.shape[0]! };

  const styled = (block: number, layer: 'conv0' | 'conv1', name: string): StyledConvWeights => {
    const p = `synthesis.b${block}.${layer}`;
    const weight = take(`${p}.weight`);
    const [out, inC] = weight.shape as [number, number];
    channels[block] = out;
    return {
      name,
      inChannels: inC,
      outChannels: out,
      resolution: block,
      upsample: layer === 'conv0',
      affine: fc(`${p}.affine`, 1),
      weight,
      noiseStrength: take(`${p}.noise_strength`).data[0]!,
      noiseConst: take(`${p}.noise_const`).data,
      bias: take(`${p}.bias`).data,
    };
  };
  const toRgb = (block: number): ToRgbWeights => {
    const p = `synthesis.b${block}.torgb`;
    const weight = take(`${p}.weight`);
    const inC = weight.shape[1]!;
    return { inChannels: inC, resolution: block, affine: fc(`${p}.affine`, 1, 1 / Math.sqrt(inC)), weight, bias: take(`${p}.bias`).data };
  };

  const convs = [styled(4, 'conv1', 'conv1')];
  const toRgbs = [toRgb(4)];
  for (let res = 8, k = 0; res <= size; res *= 2, k += 2) {
    convs.push(styled(res, 'conv0', `convs.${k}`), styled(res, 'conv1', `convs.${k + 1}`));
    toRgbs.push(toRgb(res));
  }
  const wAvg = t.get('mapping.w_avg');
  const clamp = synthesisKwargs.conv_clamp;
  return {
    size,
    styleDim,
    nLatent: 2 * Math.log2(size) - 2,
    channels,
    mapping,
    wAvg: wAvg?.data instanceof Float32Array ? wAvg.data : undefined,
    constInput,
    convs,
    toRgbs,
    convClamp: typeof clamp === 'number' ? clamp : null,
  };
}
