/**
 * The domain vector (HyperDomainNet, StyleDomain): one scale per input channel of every demodulated
 * synthesis conv (conv1 and every convs.k — not the ToRGB layers). The conv sees x · s · (1 + d) with
 * demodulation computed from the unscaled style s, which equals HyperDomainNet's weight · (1 + d)
 * applied after demodulation; d = 0 is the original generator exactly. The flat vector is the layers'
 * pieces in synthesis order: conv1, convs.0, convs.1, …
 */
import type { Value } from '../engine/graph.js';
import { add, reshape, slice } from '../engine/ops.js';
import type { StyleGAN2, StyledConvWeights } from '../models/stylegan2/architecture.js';

export interface DomainLayer {
  name: string;
  dim: number;
}

export function domainLayers(G: StyleGAN2): DomainLayer[] {
  return G.convs.map((c) => ({ name: c.name, dim: c.inChannels }));
}

export function domainSize(G: StyleGAN2): number {
  return G.convs.reduce((n, c) => n + c.inChannels, 0);
}

/** Graph side: each layer's input-channel scale (1 + d_layer) as [1, in], cut from the flat input [D]. */
export function domainScales(G: StyleGAN2, domain: Value): Map<StyledConvWeights, Value> {
  const scales = new Map<StyledConvWeights, Value>();
  let offset = 0;
  for (const layer of G.convs) {
    const piece = slice(domain, 0, offset, offset + layer.inChannels);
    scales.set(layer, reshape(add(piece, 1), [1, layer.inChannels]));
    offset += layer.inChannels;
  }
  return scales;
}
