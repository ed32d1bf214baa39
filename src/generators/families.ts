/**
 * The generator families ganvec reads. Adding a family is its folder and one line here: a checkpoint is
 * offered to each family in turn and the first that recognises it reads it.
 */
import type { Checkpoint } from '../io/checkpoint.js';
import { stylegan2 } from './stylegan2/family.js';
import { pggan } from './pggan/family.js';
import type { GeneratorFamily } from './family.js';

export const FAMILIES: readonly GeneratorFamily[] = [
  stylegan2 as GeneratorFamily,
  pggan as GeneratorFamily,
];

export function familyOf(ck: Checkpoint): GeneratorFamily | undefined {
  return FAMILIES.find((f) => f.detect(ck));
}
