/**
 * StyleGAN2 as a generator family (generators/family.ts): rosinality `.pt` and NVIDIA `.pkl` checkpoints,
 * the config-f graph builders of graph.ts, one noise map per synthesis conv as its per-sample inputs.
 */
import type { GeneratorFamily } from '../family.js';
import type { StyleGAN2 } from './architecture.js';
import { parameterCount } from './architecture.js';
import { fingerprint } from './fingerprint.js';
import { mappingNetwork, modulatedLayers, synthesisNetwork } from './graph.js';
import { fromNvidia } from './nvidia.js';
import { fromRosinality, rosinalityPrefix } from './rosinality.js';

export const stylegan2: GeneratorFamily<StyleGAN2> = {
  name: 'stylegan2',
  // Every NVIDIA network pickle that the stylegan3 family (listed first) leaves: fromNvidia refuses conditional ones.
  detect: (ck) => ck.format === 'nvidia-pkl' || rosinalityPrefix(ck.tensors) !== undefined,
  read(ck) {
    if (ck.format === 'nvidia-pkl') {
      const net = ck.networks?.G_ema;
      if (!net) throw new Error(`no G_ema network in it (found: ${Object.keys(ck.networks ?? {}).join(', ') || 'none'})`);
      return { arch: fromNvidia(net), format: 'nvidia-pkl' };
    }
    return { arch: fromRosinality(ck.tensors), format: `rosinality-${ck.format}` };
  },
  describe: (arch) => ({
    size: arch.size,
    zDim: arch.styleDim,
    wDim: arch.styleDim,
    nLatent: arch.nLatent,
    wAvg: arch.wAvg,
    layers: modulatedLayers(arch),
    sampleInputs: arch.convs.map((c, i) => ({ name: `noise_${i}`, shape: [1, c.resolution, c.resolution], constant: c.noiseConst })),
    parameters: parameterCount(arch),
    title: 'StyleGAN2',
    details: [
      { key: 'nMlp', label: 'n_mlp', value: arch.mapping.length, shown: String(arch.mapping.length) },
      { key: 'channels', label: 'channels', value: arch.channels, shown: Object.entries(arch.channels).map(([res, c]) => `${res}:${c}`).join(' ') },
      { key: 'convClamp', label: 'conv clamp', value: arch.convClamp, shown: arch.convClamp === null ? 'none' : String(arch.convClamp) },
    ],
  }),
  fingerprint,
  mapping: (g, arch, z) => mappingNetwork(g, arch, z),
  synthesis: (g, arch, { ws, samples, hooks }) => synthesisNetwork(g, arch, { ws, noises: samples, hooks }),
};

