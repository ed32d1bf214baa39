/**
 * Which of a parameterisation's layers are trained, for any parameterisation: all (HyperDomainNet), a
 * named preset, or a list of layer names. Layers left out are not in the vector at all (StyleDomain keeps
 * them as frozen zeros, which is the same generator).
 */
import type { ParameterLayer } from './parameterisation.js';

export type LayerSelection = 'all' | 'no-coarse' | readonly string[];

/** StyleDomain's `no_coarse` freezes the first six convs (conv_0 … conv_5: up to the first 32×32 conv at 1024). */
const COARSE_LAYERS = 6;

export function selectLayers(layers: readonly ParameterLayer[], selection: LayerSelection): ParameterLayer[] {
  if (selection === 'all') return [...layers];
  if (selection === 'no-coarse') {
    if (layers.length <= COARSE_LAYERS) throw new Error(`no-coarse leaves none of the ${layers.length} layers to train (it freezes the first ${COARSE_LAYERS})`);
    return layers.slice(COARSE_LAYERS);
  }
  const known = new Set(layers.map((l) => l.name));
  const unknown = selection.filter((name) => !known.has(name));
  if (unknown.length > 0) throw new Error(`unknown layers ${unknown.join(', ')} (this generator's: ${[...known].join(', ')})`);
  const chosen = layers.filter((l) => selection.includes(l.name));
  if (chosen.length === 0) throw new Error('the layer selection is empty');
  return chosen;
}
