/**
 * The losses `adapt` knows, by name. Adding a loss is one file exporting a `Loss` (loss.ts) and one line
 * in LOSSES; a plug-in or a test can also `registerLoss` at run time.
 */
import { direction } from './direction.js';
import { indomain } from './indomain.js';
import type { Loss } from './loss.js';
import { offsetsL2 } from './offsets-l2.js';

const LOSSES = new Map<string, Loss>([direction, indomain, offsetsL2].map((l) => [l.name, l]));

/** Weight per loss name; 0 is off. */
export type LossWeights = Record<string, number>;

export function registerLoss(loss: Loss): void {
  if (LOSSES.has(loss.name)) throw new Error(`a loss named ${loss.name} is already registered`);
  LOSSES.set(loss.name, loss);
}

export function lossNames(): string[] {
  return [...LOSSES.keys()];
}

export function lossNamed(name: string): Loss {
  const loss = LOSSES.get(name);
  if (!loss) throw new Error(`unknown loss "${name}" (known: ${lossNames().join(', ')})`);
  return loss;
}

/** Every registered loss at its default weight, or at 0 with `{ off: true }`. */
export function defaultLossWeights({ off = false } = {}): LossWeights {
  return Object.fromEntries([...LOSSES.values()].map((l) => [l.name, off ? 0 : l.defaultWeight]));
}

/** The active losses (weight > 0) with their weights, in registration order. */
export function activeLosses(weights: LossWeights): Array<{ loss: Loss; weight: number }> {
  for (const name of Object.keys(weights)) lossNamed(name);
  return [...LOSSES.values()].filter((l) => (weights[l.name] ?? 0) > 0).map((loss) => ({ loss, weight: weights[loss.name]! }));
}

/** Parses `direction=1,indomain=0.5` over `base` (unnamed losses keep their weight there). */
export function parseLossWeights(spec: string, base: LossWeights): LossWeights {
  const out = { ...base };
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = part.split('=');
    lossNamed(name!);
    const weight = Number(value);
    if (value === undefined || value.trim() === '' || !Number.isFinite(weight) || weight < 0) throw new Error(`loss ${name} needs a weight ≥ 0, as ${name}=1`);
    out[name!] = weight;
  }
  if (activeLosses(out).length === 0) throw new Error('every loss weight is 0: nothing to train');
  return out;
}
