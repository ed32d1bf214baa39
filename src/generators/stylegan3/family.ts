/**
 * StyleGAN3 (NVlabs/stylegan3, configs T and R) as a generator family (generators/family.ts): NVIDIA
 * network pickles, the graph builders of graph.ts, no per-sample inputs (it has no noise), and
 * gen_images.py's --translate/--rotate as generation settings.
 */
import type { GeneratorFamily } from '../family.js';
import type { StyleGAN3 } from './architecture.js';
import { parameterCount } from './architecture.js';
import { fingerprint } from './fingerprint.js';
import { mappingNetwork, modulatedLayers, synthesisNetwork } from './graph.js';
import { fromNvidia, isStyleGAN3 } from './nvidia.js';
import { withTransform } from './transform.js';

const TITLES: Record<StyleGAN3['config'], string> = {
  'stylegan3-t': 'StyleGAN3-T',
  'stylegan3-r': 'StyleGAN3-R',
  'stylegan3-custom': 'StyleGAN3',
};

export const stylegan3: GeneratorFamily<StyleGAN3> = {
  name: 'stylegan3',
  settings: [
    { name: 'translate', value: 'X,Y', description: 'StyleGAN3: translate the image (gen_images.py --translate; the image spans about -0.5..0.5)' },
    { name: 'rotate', value: 'DEG', description: 'StyleGAN3: rotate the image by this many degrees (gen_images.py --rotate)' },
  ],
  configure: withTransform,
  detect: (ck) => ck.format === 'nvidia-pkl' && ck.networks?.G_ema !== undefined && isStyleGAN3(ck.networks.G_ema),
  read: (ck) => ({ arch: fromNvidia(ck.networks!.G_ema!), format: 'nvidia-pkl' }),
  describe: (arch) => ({
    size: arch.size,
    zDim: arch.zDim,
    wDim: arch.wDim,
    nLatent: arch.nLatent,
    wAvg: arch.wAvg,
    layers: modulatedLayers(arch),
    sampleInputs: [],
    parameters: parameterCount(arch),
    title: TITLES[arch.config],
    // Each filtered layer keeps activations at twice its output size: the 1024 px step peaks at 14 GB this
    // way (bench/RESULTS.md) and above 24 GB as one graph.
    checkpointedSteps: true,
    details: [
      { key: 'config', label: 'config', value: arch.config, shown: arch.config },
      { key: 'mappingLayers', label: 'mapping layers', value: arch.mapping.length, shown: String(arch.mapping.length) },
      {
        key: 'layers',
        label: 'layers',
        value: arch.layers.map((l) => ({ name: l.name, up: l.up, down: l.down, radial: l.downRadial })),
        shown: arch.layers.map((l) => l.name).join(' '),
      },
      { key: 'convClamp', label: 'conv clamp', value: arch.convClamp, shown: arch.convClamp === null ? 'none' : String(arch.convClamp) },
    ],
  }),
  fingerprint,
  mapping: (g, arch, z) => mappingNetwork(g, arch, z),
  synthesis: (g, arch, { ws, hooks, stage }) => synthesisNetwork(g, arch, { ws, hooks, stage }),
};
