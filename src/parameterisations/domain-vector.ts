/**
 * The domain vector (HyperDomainNet's `cin_mult`, StyleDomain's domain vectors): one scale per input
 * channel of every synthesis conv (StyleGAN2: conv1 and every convs.k — not the ToRGB layers). The conv
 * sees x · s · (1 + d) with demodulation computed from the unscaled style s, which equals HyperDomainNet's
 * weight · (1 + d) applied after demodulation; d = 0 is the original generator exactly.
 */
import { add } from '../engine/ops.js';
import { layerPieces, layerPosition, type Parameterisation } from './parameterisation.js';

/**
 * Values so large that images overflow float32 (max 3.4e38) and come out NaN are refused before
 * synthesis. An activation passes through every layer in turn, each scaling it by up to the largest
 * |1 + d| in that layer, so the product of those largest scales bounds what a vector can do; below 1e30
 * float32 keeps ample room for the network's own activations. Any vector with every |d| ≤ 50 passes on
 * FFHQ-1024's 17 layers (51^17 ≈ 1e29); trained ones are far smaller.
 */
const MAX_GAIN = 1e30;

export const domainVector: Parameterisation = {
  name: 'domain-vector',
  summary: 'a scale (1 + d) per input channel of every synthesis conv (HyperDomainNet cin_mult)',
  layers: (all) => all.filter((l) => l.role === 'conv').map((l) => ({ name: l.name, dim: l.inChannels })),
  hooks(vector, layers) {
    const pieces = layerPieces(vector, layers);
    return {
      inputScale(layer) {
        const d = pieces.get(layer.name);
        return d && add(d, 1);
      },
    };
  },
  problem(vector, layers) {
    let gain = 1;
    let largest = 0;
    let offset = 0;
    for (const { dim } of layers) {
      let layerMax = 1; // a layer that only shrinks is not counted on to undo another's growth
      for (let i = offset; i < offset + dim; i++) {
        layerMax = Math.max(layerMax, Math.abs(1 + vector[i]!));
        if (Math.abs(vector[i]!) > Math.abs(vector[largest]!)) largest = i;
      }
      gain *= layerMax;
      offset += dim;
    }
    if (gain <= MAX_GAIN) return undefined;
    return (
      `is too large: the largest |1 + d| of each layer multiply to ${gain.toExponential(1)}, ` +
      `above the ${MAX_GAIN.toExponential(0)} that keeps images within float32; ` +
      `the largest value is ${Number(vector[largest]!.toPrecision(6))} at ${layerPosition(layers, largest)}`
    );
  },
};
