/**
 * Loading models by registry name or file: a name is resolved to its cached file (downloaded on first use
 * unless `download: false`), then read as any local checkpoint. The model modules read files only.
 */
import { clipFromFile, type Clip, type ClipOptions } from '../clip/clip.js';
import type { Generator, GeneratorOptions } from '../generators/generator.js';
import { generatorFromFile } from '../generators/load.js';
import type { DownloadSettings } from './download.js';
import { resolveModel } from './resolve-model.js';

export interface LoadOptions {
  /** Download a registered model that is not cached yet (default true). */
  download?: boolean;
  /** How a download runs and reports (progress events, notices); the defaults print notices to stderr. */
  downloads?: DownloadSettings;
}

export type LoadGeneratorOptions = GeneratorOptions & LoadOptions;
export type LoadClipOptions = ClipOptions & LoadOptions;

export async function loadGenerator(nameOrPath: string, options: LoadGeneratorOptions = {}): Promise<Generator> {
  const { download = true, downloads, ...generatorOptions } = options;
  const { path } = await resolveModel(nameOrPath, { kind: 'generator', download, ...downloads });
  return generatorFromFile(path, generatorOptions);
}

export async function loadClip(nameOrPath: string, options: LoadClipOptions = {}): Promise<Clip> {
  const { download = true, downloads, ...clipOptions } = options;
  const { path, entry } = await resolveModel(nameOrPath, { kind: 'clip', download, ...downloads });
  return clipFromFile(path, clipOptions, entry?.name);
}
