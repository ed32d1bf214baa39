/**
 * `loadGenerator(nameOrPath)`: a registry name or a local checkpoint in any supported layout →
 * a Generator. The layout is recognised from the file's content, never from its name.
 */
import { readCheckpoint, type Checkpoint } from '../../io/checkpoint.js';
import { CheckpointError } from '../../io/errors.js';
import { resolveModel } from '../../io/resolve-model.js';
import type { StyleGAN2 } from './architecture.js';
import { fingerprint } from './fingerprint.js';
import { Generator, type GeneratorOptions } from './generator.js';
import { fromNvidia } from './nvidia.js';
import { fromRosinality, rosinalityPrefix } from './rosinality.js';

export interface LoadGeneratorOptions extends GeneratorOptions {
  /** Download a registered model that is not cached yet (default true). */
  download?: boolean;
}

/** Whether a read checkpoint holds a StyleGAN2 generator in a layout ganvec maps (it may still be refused). */
export function holdsGenerator(ck: Checkpoint): boolean {
  return ck.format === 'nvidia-pkl' || rosinalityPrefix(ck.tensors) !== undefined;
}

export async function readGeneratorFile(path: string): Promise<{ arch: StyleGAN2; format: string }> {
  return generatorFromCheckpoint(await readCheckpoint(path), path);
}

export function generatorFromCheckpoint(ck: Checkpoint, path: string): { arch: StyleGAN2; format: string } {
  try {
    if (ck.format === 'nvidia-pkl') {
      const net = ck.networks?.G_ema;
      if (!net) throw new Error(`no G_ema network in it (found: ${Object.keys(ck.networks ?? {}).join(', ') || 'none'})`);
      return { arch: fromNvidia(net), format: 'nvidia-pkl' };
    }
    if (rosinalityPrefix(ck.tensors) !== undefined) return { arch: fromRosinality(ck.tensors), format: `rosinality-${ck.format}` };
    throw new Error('it holds no StyleGAN2 generator (expected rosinality names such as g_ema.conv1.conv.weight, or an NVIDIA network pickle)');
  } catch (err) {
    throw new CheckpointError(path, (err as Error).message, { cause: err });
  }
}

export async function loadGenerator(nameOrPath: string, options: LoadGeneratorOptions = {}): Promise<Generator> {
  const { download = true, ...generatorOptions } = options;
  const { path } = await resolveModel(nameOrPath, { kind: 'generator', download });
  const { arch, format } = await readGeneratorFile(path);
  return new Generator(arch, { format, path, fingerprint: fingerprint(arch) }, generatorOptions);
}
