/**
 * StyleSpace offsets (StyleDomain's `s_delta`): an offset added to each synthesis conv's style
 * s = affine(w) before it modulates and demodulates the conv, shared by every sample. Zero offsets are
 * the original generator exactly.
 */
import { add } from '../engine/ops.js';
import { layerPieces, layerPosition, type Parameterisation } from './parameterisation.js';

/**
 * Demodulation divides out the style's scale, so large offsets overflow only once squared styles do
 * (float32 squares stay finite below ~1.8e19); 1e15 leaves room for the sums over channels and taps.
 */
const MAX_OFFSET = 1e15;

export const styleOffsets: Parameterisation = {
  name: 'style-offsets',
  summary: 'an offset added to the style of every synthesis conv before (de)modulation (StyleDomain s_delta, StyleSpace)',
  layers: (all) => all.filter((l) => l.role === 'conv' && l.styled).map((l) => ({ name: l.name, dim: l.inChannels })),
  hooks(vector, layers) {
    const pieces = layerPieces(vector, layers);
    return {
      style(layer, s) {
        const delta = pieces.get(layer.name);
        return delta ? add(s, delta) : s;
      },
    };
  },
  problem(vector, layers) {
    const i = vector.findIndex((x) => Math.abs(x) > MAX_OFFSET);
    return i < 0 ? undefined : `is too large: ${vector[i]} at ${layerPosition(layers, i)} exceeds the ${MAX_OFFSET.toExponential(0)} that keeps styles within float32`;
  },
};
