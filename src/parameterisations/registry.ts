/** The parameterisations ganvec trains, by name. Adding one is one file and one line here. */
import { domainVector } from './domain-vector.js';
import type { Parameterisation } from './parameterisation.js';
import { styleOffsets } from './style-offsets.js';

const PARAMETERISATIONS = new Map<string, Parameterisation>([domainVector, styleOffsets].map((p) => [p.name, p]));

export const DEFAULT_PARAMETERISATION = domainVector.name;

export function parameterisationNames(): string[] {
  return [...PARAMETERISATIONS.keys()];
}

export function parameterisationNamed(name: string): Parameterisation {
  const p = PARAMETERISATIONS.get(name);
  if (!p) throw new Error(`unknown parameterisation "${name}" (known: ${parameterisationNames().join(', ')})`);
  return p;
}
