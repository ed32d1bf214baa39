/**
 * rosinality/stylegan2-pytorch state-dict names → the format-neutral generator. Accepts the training
 * checkpoint layout `{g_ema: state_dict, latent_avg}` (also `g`), a bare generator state dict, and the
 * same names in safetensors. Gains of the equalised layers are folded in here:
 * EqualLinear weight × lr_mul/sqrt(in), bias × lr_mul; ModulatedConv2d weight × 1/sqrt(in·k²).
 */
import type { Tensor, TensorData } from '../../engine/tensor.js';
import type { DenseWeights, StyleGAN2, StyledConvWeights, ToRgbWeights } from './architecture.js';

type Named = Map<string, Tensor<TensorData>>;

const MAPPING_LR_MUL = 0.01;

function take(tensors: Named, prefix: string, name: string): Tensor {
  const t = tensors.get(prefix + name);
  if (!t) throw new Error(`missing tensor "${prefix}${name}"`);
  if (!(t.data instanceof Float32Array)) throw new Error(`tensor "${prefix}${name}" is not floating point`);
  return t as Tensor;
}

function scaled(t: Tensor, gain: number, shape = t.shape): Tensor {
  return { data: t.data.map((x) => x * gain), shape: [...shape] };
}

function equalLinear(tensors: Named, prefix: string, name: string, lrMul: number): DenseWeights {
  const w = take(tensors, prefix, `${name}.weight`);
  const b = take(tensors, prefix, `${name}.bias`);
  return { weight: scaled(w, lrMul / Math.sqrt(w.shape[1]!)), bias: b.data.map((x) => x * lrMul) };
}

/** Which prefix holds the generator: `g_ema.` (preferred, the EMA weights), `g.`, or none. */
export function rosinalityPrefix(tensors: Named): string | undefined {
  for (const prefix of ['g_ema.', '', 'g.']) if (tensors.has(`${prefix}conv1.conv.weight`)) return prefix;
  return undefined;
}

export function fromRosinality(tensors: Named): StyleGAN2 {
  const p = rosinalityPrefix(tensors);
  if (p === undefined) throw new Error('not a rosinality StyleGAN2 generator (no conv1.conv.weight)');

  const mapping: DenseWeights[] = [];
  for (let i = 1; tensors.has(`${p}style.${i}.weight`); i++) mapping.push(equalLinear(tensors, p, `style.${i}`, MAPPING_LR_MUL));
  const styleDim = mapping[0]?.weight.shape[1];
  if (!styleDim) throw new Error('missing the mapping network (style.1.weight)');

  let nConvs = 0;
  while (tensors.has(`${p}convs.${nConvs}.conv.weight`)) nConvs++;
  const size = 4 * 2 ** (nConvs / 2);
  if (nConvs % 2 !== 0 || nConvs === 0) throw new Error(`unexpected number of synthesis convs: ${nConvs}`);

  const constInput = take(tensors, p, 'input.input');
  const channels: Record<number, number> = { 4: constInput.shape[1]! };

  const styled = (name: string, resolution: number, upsample: boolean, noiseIndex: number): StyledConvWeights => {
    const w5 = take(tensors, p, `${name}.conv.weight`); // [1, out, in, k, k]
    const [, out, inC, k] = w5.shape as [number, number, number, number];
    channels[resolution] = out;
    const noise = take(tensors, p, `noises.noise_${noiseIndex}`);
    return {
      name,
      inChannels: inC,
      outChannels: out,
      resolution,
      upsample,
      affine: equalLinear(tensors, p, `${name}.conv.modulation`, 1),
      weight: scaled(w5, 1 / Math.sqrt(inC * k * k), [out, inC, k, k]),
      noiseStrength: take(tensors, p, `${name}.noise.weight`).data[0]!,
      noiseConst: noise.data,
      bias: take(tensors, p, `${name}.activate.bias`).data,
    };
  };
  const toRgb = (name: string, resolution: number): ToRgbWeights => {
    const w5 = take(tensors, p, `${name}.conv.weight`); // [1, 3, in, 1, 1]
    const inC = w5.shape[2]!;
    const affine = equalLinear(tensors, p, `${name}.conv.modulation`, 1);
    const gain = 1 / Math.sqrt(inC);
    return {
      inChannels: inC,
      resolution,
      affine: { weight: scaled(affine.weight, gain), bias: affine.bias.map((x) => x * gain) },
      weight: { data: w5.data, shape: [3, inC, 1, 1] },
      bias: take(tensors, p, `${name}.bias`).data,
    };
  };

  const convs = [styled('conv1', 4, false, 0)];
  const toRgbs = [toRgb('to_rgb1', 4)];
  for (let i = 0; i < nConvs; i += 2) {
    const res = 8 * 2 ** (i / 2);
    convs.push(styled(`convs.${i}`, res, true, i + 1), styled(`convs.${i + 1}`, res, false, i + 2));
    toRgbs.push(toRgb(`to_rgbs.${i / 2}`, res));
  }
  const latentAvg = tensors.get('latent_avg');
  return {
    size,
    styleDim,
    nLatent: 2 * Math.log2(size) - 2,
    channels,
    mapping,
    wAvg: latentAvg?.data instanceof Float32Array ? latentAvg.data.slice(-styleDim) : undefined,
    constInput: { data: constInput.data, shape: constInput.shape.slice(1) },
    convs,
    toRgbs,
    convClamp: null,
  };
}
