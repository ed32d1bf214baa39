/**
 * The source side of an image direction (DESIGN.md §5 "Few images"): the mean unit CLIP embedding of
 * many frozen-generator samples. It depends only on the generator, the CLIP model and how the samples
 * are drawn, not on the target images, so it is computed once and cached under GANVEC_HOME as a .npy.
 *
 * Samples as sample-embeddings.ts draws them (seeds seed, seed+1, …, truncation 1, constant noise), in the
 * original domain; encoded through the same differentiable preprocessing as training.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readNpy, writeNpy } from '../io/npy.js';
import { ganvecHome } from '../registry/resolve-model.js';
import type { Clip } from '../clip/clip.js';
import type { Generator } from '../generators/generator.js';
import { sampleEmbeddings } from './sample-embeddings.js';

export interface SourceSampleSettings {
  /** Frozen-generator samples averaged; StyleGAN-NADA uses 16, more gives a steadier mean. */
  count: number;
  /** First seed; sample i uses seed + i. */
  seed: number;
}

export const DEFAULT_SOURCE_SAMPLES: SourceSampleSettings = { count: 256, seed: 0 };

export interface SourceEmbeddingOptions {
  samples?: SourceSampleSettings;
  /** Cache folder; default `<GANVEC_HOME>/cache/source-embeddings`. `false` computes without caching. */
  cacheDir?: string | false;
}

/** Bumped when the way the mean is computed changes, so old cache files are not reused. */
const CACHE_VERSION = 1;

/** The mean over samples of the unit CLIP embedding of the frozen generator's images, [embedDim]. */
export async function sourceMeanEmbedding(G: Generator, clip: Clip, options: SourceEmbeddingOptions = {}): Promise<Float32Array> {
  const samples = options.samples ?? DEFAULT_SOURCE_SAMPLES;
  if (!Number.isInteger(samples.count) || samples.count < 1) throw new RangeError(`source samples must be a whole number ≥ 1, got ${samples.count}`);
  const cacheDir = options.cacheDir ?? join(ganvecHome(), 'cache', 'source-embeddings');
  const file = cacheDir === false ? undefined : join(cacheDir, `${cacheKey(G, clip, samples)}.npy`);
  if (file) {
    const cached = await readNpy(file).catch(() => undefined);
    if (cached?.data instanceof Float32Array && cached.shape.length === 1 && cached.shape[0] === clip.embedDim) return cached.data;
  }

  const sum = new Float64Array(clip.embedDim);
  const [rows] = await sampleEmbeddings(G, [clip], samples);
  for (const row of rows!) row.forEach((x, j) => (sum[j]! += x));
  const mean = Float32Array.from(sum, (s) => s / samples.count);
  if (file) {
    await mkdir(dirname(file), { recursive: true });
    await writeNpy(file, { data: mean, shape: [mean.length] });
  }
  return mean;
}

/** Everything the mean depends on; the CLIP weights by content, so a renamed or re-downloaded file still hits. */
function cacheKey(G: Generator, clip: Clip, samples: SourceSampleSettings): string {
  const identity = JSON.stringify({
    version: CACHE_VERSION,
    generator: G.source.fingerprint,
    clip: clipFingerprint(clip),
    count: samples.count,
    seed: samples.seed,
    truncation: 1,
    noise: 'const',
  });
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

const clipFingerprints = new WeakMap<Clip, string>();

/** sha256 over every float of the CLIP weights, in the structure's key order (format-neutral). */
export function clipFingerprint(clip: Clip): string {
  let known = clipFingerprints.get(clip);
  if (!known) {
    const h = createHash('sha256');
    const visit = (value: unknown): void => {
      if (ArrayBuffer.isView(value)) h.update(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      else if (Array.isArray(value)) value.forEach(visit);
      else if (typeof value === 'number') h.update(String(value));
      else if (value && typeof value === 'object') for (const key of Object.keys(value).sort()) h.update(key), visit((value as Record<string, unknown>)[key]);
    };
    visit(clip.weights);
    known = h.digest('hex').slice(0, 16);
    clipFingerprints.set(clip, known);
  }
  return known;
}
