/**
 * rosinality/stylegan2-pytorch state-dict names → the format-neutral generator. Accepts the training
 * checkpoint layout `{g_ema: state_dict, latent_avg}` (also `g`), a bare generator state dict, and the
 * same names in safetensors. Gains of the equalised layers are folded in here:
 * EqualLinear weight × lr_mul/sqrt(in), bias × lr_mul; ModulatedConv2d weight × 1/sqrt(in·k²).
 * Every tensor read is checked against the shapes the ones before it imply (style dim, channels).
 */
import type { Tensor } from '../../core/tensor.js';
import { floatTensor, type NamedTensors, type ShapePattern } from '../../io/named-tensors.js';
import type { DenseWeights, StyleGAN2, StyledConvWeights, ToRgbWeights } from './architecture.js';

const MAPPING_LR_MUL = 0.01;

function scaled(t: Tensor, gain: number, shape = t.shape): Tensor {
  return { data: t.data.map((x) => x * gain), shape: [...shape] };
}

/** Which prefix holds the generator: `g_ema.` (preferred, the EMA weights), `g.`, or none. */
export function rosinalityPrefix(tensors: NamedTensors): string | undefined {
  for (const prefix of ['g_ema.', '', 'g.']) if (tensors.has(`${prefix}conv1.conv.weight`)) return prefix;
  return undefined;
}

export function fromRosinality(tensors: NamedTensors): StyleGAN2 {
  const p = rosinalityPrefix(tensors);
  if (p === undefined) throw new Error('not a rosinality StyleGAN2 generator (no conv1.conv.weight)');
  const take = (name: string, shape: ShapePattern) => floatTensor(tensors, p + name, shape);

  if (!tensors.has(`${p}style.1.weight`)) throw new Error('missing the mapping network (style.1.weight)');
  const styleDim = take('style.1.weight', [undefined, undefined]).shape[1]!;
  /** EqualLinear [out, in] and its bias [out]. */
  const equalLinear = (name: string, out: number, lrMul: number): DenseWeights => {
    const w = take(`${name}.weight`, [out, styleDim]);
    const b = take(`${name}.bias`, [out]);
    return { weight: scaled(w, lrMul / Math.sqrt(styleDim)), bias: b.data.map((x) => x * lrMul) };
  };
  const mapping: DenseWeights[] = [];
  for (let i = 1; tensors.has(`${p}style.${i}.weight`); i++) mapping.push(equalLinear(`style.${i}`, styleDim, MAPPING_LR_MUL));

  let nConvs = 0;
  while (tensors.has(`${p}convs.${nConvs}.conv.weight`)) nConvs++;
  const size = 4 * 2 ** (nConvs / 2);
  if (nConvs % 2 !== 0 || nConvs === 0) throw new Error(`unexpected number of synthesis convs: ${nConvs}`);

  const constInput = take('input.input', [1, undefined, 4, 4]);
  const channels: Record<number, number> = { 4: constInput.shape[1]! };

  const styled = (name: string, resolution: number, inC: number, upsample: boolean, noiseIndex: number): StyledConvWeights => {
    const w5 = take(`${name}.conv.weight`, [1, undefined, inC, 3, 3]);
    const out = w5.shape[1]!;
    channels[resolution] = out;
    return {
      name,
      inChannels: inC,
      outChannels: out,
      resolution,
      upsample,
      affine: equalLinear(`${name}.conv.modulation`, inC, 1),
      weight: scaled(w5, 1 / Math.sqrt(inC * 9), [out, inC, 3, 3]),
      noiseStrength: take(`${name}.noise.weight`, [1]).data[0]!,
      noiseConst: take(`noises.noise_${noiseIndex}`, [1, 1, resolution, resolution]).data,
      bias: take(`${name}.activate.bias`, [out]).data,
    };
  };
  const toRgb = (name: string, resolution: number): ToRgbWeights => {
    const inC = channels[resolution]!;
    const w5 = take(`${name}.conv.weight`, [1, 3, inC, 1, 1]);
    const affine = equalLinear(`${name}.conv.modulation`, inC, 1);
    const gain = 1 / Math.sqrt(inC);
    return {
      inChannels: inC,
      resolution,
      affine: { weight: scaled(affine.weight, gain), bias: affine.bias.map((x) => x * gain) },
      weight: { data: w5.data, shape: [3, inC, 1, 1] },
      bias: take(`${name}.bias`, [1, 3, 1, 1]).data,
    };
  };

  const convs = [styled('conv1', 4, channels[4]!, false, 0)];
  const toRgbs = [toRgb('to_rgb1', 4)];
  for (let i = 0; i < nConvs; i += 2) {
    const res = 8 * 2 ** (i / 2);
    convs.push(styled(`convs.${i}`, res, channels[res / 2]!, true, i + 1));
    convs.push(styled(`convs.${i + 1}`, res, channels[res]!, false, i + 2));
    toRgbs.push(toRgb(`to_rgbs.${i / 2}`, res));
  }
  // latent_avg is [style dim], or a row per W+ layer ending in it.
  const latentAvg = tensors.get('latent_avg');
  const wAvg = latentAvg && floatTensor(tensors, 'latent_avg', [...latentAvg.shape.slice(1).map(() => undefined), styleDim]);
  return {
    size,
    styleDim,
    nLatent: 2 * Math.log2(size) - 2,
    channels,
    mapping,
    wAvg: wAvg?.data.slice(-styleDim),
    constInput: { data: constInput.data, shape: constInput.shape.slice(1) },
    convs,
    toRgbs,
    convClamp: null,
  };
}
