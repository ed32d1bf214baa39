/**
 * Loading models by registry name or file: a name is resolved to its cached file (downloaded on first use
 * unless `download: false`), then read as any local checkpoint. The model modules read files only.
 */
import { clipFromFile, type Clip, type ClipOptions } from '../clip/clip.js';
import type { Generator, GeneratorOptions } from '../generators/generator.js';
import { generatorFromFile } from '../generators/load.js';
import { E4eEncoder, type E4eEncoderOptions } from '../encoders/e4e-encoder.js';
import { readLpipsWeights, type LpipsWeights } from '../perceptual/lpips.js';
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

export interface LoadLpipsOptions extends LoadOptions {
  /** VGG16 trunk: a registered name or a torchvision-style state-dict file (default vgg16-imagenet). */
  trunk?: string;
  /** LPIPS lin layers: a registered name or file (default lpips-vgg-v0.1). */
  lin?: string;
}

/** LPIPS-VGG16 v0.1 weights: torchvision's ImageNet VGG16 and PerceptualSimilarity's lin layers. */
export async function loadLpips(options: LoadLpipsOptions = {}): Promise<LpipsWeights> {
  const { download = true, downloads, trunk = 'vgg16-imagenet', lin = 'lpips-vgg-v0.1' } = options;
  const vgg = await resolveModel(trunk, { kind: 'perceptual', download, ...downloads });
  const lins = await resolveModel(lin, { kind: 'perceptual', download, ...downloads });
  return readLpipsWeights(vgg.path, lins.path);
}

export type LoadEncoderOptions = E4eEncoderOptions & LoadOptions;

/** An encoder4editing checkpoint (default e4e-ffhq-encode, encoder4editing's FFHQ encoder) as one ONNX session. */
export async function loadE4e(nameOrPath = 'e4e-ffhq-encode', options: LoadEncoderOptions = {}): Promise<E4eEncoder> {
  const { download = true, downloads, ...encoderOptions } = options;
  const { path } = await resolveModel(nameOrPath, { kind: 'encoder', download, ...downloads });
  return E4eEncoder.fromFile(path, encoderOptions);
}
