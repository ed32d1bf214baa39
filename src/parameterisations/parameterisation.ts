/**
 * A parameterisation: how a flat trainable vector enters a generator through the hooks its family calls at
 * each modulated layer. The vector is the concatenation of its layers' pieces in `layers` order; domain
 * files store one tensor per layer under the layer's name.
 */
import type { Value } from '../engine/graph.js';
import { reshape, slice } from '../engine/ops.js';
import type { LayerHooks, ModulatedLayer } from '../generators/family.js';

export interface ParameterLayer {
  name: string;
  dim: number;
}

export interface Parameterisation {
  /** As domain files and `--parameterisation` name it. */
  name: string;
  /** One line for `info` and `--help`: what it is and whose it is. */
  summary: string;
  /** The layers it trains, in flat order (before any layer selection). */
  layers(all: readonly ModulatedLayer[]): ParameterLayer[];
  /** The hooks for a vector input [Σ dim] over `layers`. */
  hooks(vector: Value, layers: readonly ParameterLayer[]): LayerHooks;
  /** Why `vector` cannot drive synthesis (e.g. values so large images overflow float32), or undefined. */
  problem(vector: Float32Array, layers: readonly ParameterLayer[]): string | undefined;
}

/** Each layer's piece of the flat vector [Σ dim] as [1, dim], by layer name. */
export function layerPieces(vector: Value, layers: readonly ParameterLayer[]): Map<string, Value> {
  const pieces = new Map<string, Value>();
  let offset = 0;
  for (const { name, dim } of layers) {
    pieces.set(name, reshape(slice(vector, 0, offset, offset + dim), [1, dim]));
    offset += dim;
  }
  return pieces;
}

/** Flat index `i` as layer[index] (flat index i). */
export function layerPosition(layers: readonly ParameterLayer[], i: number): string {
  let offset = 0;
  for (const { name, dim } of layers) {
    if (i < offset + dim) return `${name}[${i - offset}] (flat index ${i})`;
    offset += dim;
  }
  return `flat index ${i}`;
}

export function vectorSize(layers: readonly ParameterLayer[]): number {
  return layers.reduce((n, l) => n + l.dim, 0);
}
