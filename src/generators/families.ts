/**
 * The generator families ganvec reads. Adding a family is its folder and one line here: a checkpoint is
 * offered to each family in turn and the first that recognises it reads it.
 */
import type { Checkpoint } from '../io/checkpoint.js';
import { stylegan2 } from './stylegan2/family.js';
import { stylegan3 } from './stylegan3/family.js';
import { pggan } from './pggan/family.js';
import type { GeneratorFamily } from './family.js';

// StyleGAN3 first: StyleGAN2 takes every other NVIDIA network pickle (and refuses what it cannot read).
export const FAMILIES: readonly GeneratorFamily[] = [
  stylegan3 as GeneratorFamily,
  stylegan2 as GeneratorFamily,
  pggan as GeneratorFamily,
];

export function familyOf(ck: Checkpoint): GeneratorFamily | undefined {
  return FAMILIES.find((f) => f.detect(ck));
}
