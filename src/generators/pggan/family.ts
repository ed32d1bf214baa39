/**
 * The Progressive GAN as a generator family (generators/family.ts): pytorch_GAN_zoo PGAN checkpoints.
 * It has no mapping network and no style: the family's mapping is the identity, so W is z (one row of W+,
 * nothing to mix) and `vjp`'s gradient with respect to w is the gradient with respect to z; GNet's own
 * first step, the pixel norm of z, is part of synthesis. Truncation has no mean W to pull toward and is
 * refused. No per-sample inputs (no noise). Generation settings: `scale` (the toRGB of scale K is the
 * output, 0 = 4x4) and `alpha` (the fade-in of that scale, pytorch_GAN_zoo's: 0 = fully grown).
 */
import { identity } from '../../engine/ops.js';
import type { GeneratorFamily } from '../family.js';
import type { ProgressiveGAN } from './architecture.js';
import { parameterCount } from './architecture.js';
import { fingerprint } from './fingerprint.js';
import { modulatedLayers, synthesisNetwork } from './graph.js';
import { fromPytorchGanZoo, pganNetwork } from './pytorch-gan-zoo.js';

export const pggan: GeneratorFamily<ProgressiveGAN> = {
  name: 'pggan',
  settings: [
    { name: 'scale', value: 'K', description: 'generate at scale K of the progression (0 = 4x4, 1 = 8x8, …; the last when omitted)' },
    { name: 'alpha', value: 'A', description: "the fade-in of the output scale, 0 = fully grown … 1 = the previous scale upsampled (when omitted: the checkpoint's at its last scale, else 0)" },
  ],
  configure(arch, values) {
    const last = arch.scales.length - 1;
    let scale = last;
    if (values.scale !== undefined) {
      scale = Number(values.scale);
      if (!/^\d+$/.test(values.scale.trim()) || scale > last) {
        throw new Error(`--scale ${values.scale}: this generator's scales are 0 … ${last} (${arch.scales.map((s) => `${s.resolution}x${s.resolution}`).join(', ')})`);
      }
    }
    let alpha = scale === last ? arch.alpha : 0;
    if (values.alpha !== undefined) {
      alpha = values.alpha.trim() === '' ? NaN : Number(values.alpha);
      if (!(alpha >= 0 && alpha <= 1)) throw new Error(`--alpha ${values.alpha}: the fade-in is a number in [0, 1] (0 = fully grown)`);
      if (alpha > 0 && scale === 0) throw new Error(`--alpha ${values.alpha}: scale 0 has no previous scale to fade in from`);
    }
    return { ...arch, output: { scale, alpha } };
  },
  detect: (ck) => pganNetwork(ck) !== undefined,
  read: (ck) => ({ arch: fromPytorchGanZoo(ck), format: 'pytorch-gan-zoo' }),
  describe: (arch) => ({
    size: arch.scales[arch.output.scale]!.resolution,
    zDim: arch.zDim,
    wDim: arch.zDim,
    nLatent: 1,
    noTruncation: 'a Progressive GAN has no mapping network, so no mean W to truncate toward (W is z)',
    layers: modulatedLayers(arch),
    sampleInputs: [],
    parameters: parameterCount(arch),
    title: 'Progressive GAN',
    details: [
      {
        key: 'network',
        label: 'network',
        value: arch.network,
        shown: arch.network === 'avgG' ? 'avgG (the moving average, as the hub samples)' : 'netG (the checkpoint has no avgG, the moving average the hub samples with)',
      },
      {
        key: 'scales',
        label: 'scales',
        value: arch.scales.map((s) => ({ resolution: s.resolution, channels: s.convs.at(-1)!.outChannels })),
        shown: arch.scales.map((s, k) => `${k}: ${s.resolution}x${s.resolution} ${s.convs.at(-1)!.outChannels}ch`).join(', '),
      },
      { key: 'outputScale', label: 'output scale', value: arch.output.scale, shown: `${arch.output.scale} (${arch.scales[arch.output.scale]!.resolution}x${arch.scales[arch.output.scale]!.resolution})` },
      { key: 'alpha', label: 'alpha', value: arch.output.alpha, shown: `${arch.output.alpha}${arch.output.alpha === 0 ? ' (fully grown)' : ' (fading in from the previous scale)'}` },
      { key: 'outputActivation', label: 'output', value: arch.tanh ? 'tanh' : 'linear', shown: arch.tanh ? 'tanh' : 'linear (no activation)' },
    ],
  }),
  fingerprint,
  mapping: (_g, _arch, z) => identity(z),
  synthesis: (g, arch, { ws, hooks }) => synthesisNetwork(g, arch, ws, hooks),
};
