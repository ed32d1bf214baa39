/**
 * Checkpoint file → Generator: the file is read by io/ (any supported container), then offered to each
 * generator family (families.ts); the layout is recognised from the content, never from the file name.
 * (By registry name: registry/load.ts.)
 */
import { readCheckpoint, type Checkpoint } from '../io/checkpoint.js';
import { CheckpointError } from '../io/errors.js';
import type { GeneratorFamily } from './family.js';
import { FAMILIES, familyOf } from './families.js';
import { Generator, type GeneratorOptions } from './generator.js';

export interface ReadGenerator {
  family: GeneratorFamily;
  arch: unknown;
  format: string;
}

/** Whether a read checkpoint holds a generator of a known family (it may still be refused when read). */
export function holdsGenerator(ck: Checkpoint): boolean {
  return familyOf(ck) !== undefined;
}

export async function readGeneratorFile(path: string): Promise<ReadGenerator> {
  return generatorFromCheckpoint(await readCheckpoint(path), path);
}

export function generatorFromCheckpoint(ck: Checkpoint, path: string): ReadGenerator {
  try {
    const family = familyOf(ck);
    if (!family) {
      throw new Error(`it holds no generator ganvec reads (${FAMILIES.map((f) => f.name).join(', ')}: expected rosinality names such as g_ema.conv1.conv.weight, or an NVIDIA network pickle)`);
    }
    return { family, ...family.read(ck) };
  } catch (err) {
    throw new CheckpointError(path, (err as Error).message, { cause: err });
  }
}

export async function generatorFromFile(path: string, options: GeneratorOptions = {}): Promise<Generator> {
  const { family, arch, format } = await readGeneratorFile(path);
  return new Generator(family, arch, { format, path, fingerprint: family.fingerprint(arch) }, options);
}
