/**
 * Unit CLIP embeddings of a generator's samples, as evaluation and the few-image source mean draw them:
 * z from seeds seed … seed+count−1 (as `ganvec generate --seeds`), truncation 1, constant noise, no style
 * mixing, so a number can be reproduced image by image. Each chunk of samples is generated once and
 * encoded by every CLIP model; chunks bound memory at 1024 px.
 */
import type { Generator } from '../generators/generator.js';
import { zFromSeeds } from '../generators/latents.js';
import type { Clip } from '../clip/clip.js';
import { unitRows } from './unit-vectors.js';

export interface SampleSettings {
  count: number;
  /** First seed; sample i uses seed + i. */
  seed: number;
  /** The adapted domain; omitted = the original generator. */
  domain?: Float32Array;
  onProgress?: (done: number, total: number) => void;
}

const CHUNK = 16;

/** One list of unit rows per CLIP model, in seed order. */
export async function sampleEmbeddings(G: Generator, clips: readonly Clip[], s: SampleSettings): Promise<Float64Array[][]> {
  const rows: Float64Array[][] = clips.map(() => []);
  for (let start = 0; start < s.count; start += CHUNK) {
    const seeds = Array.from({ length: Math.min(CHUNK, s.count - start) }, (_, i) => s.seed + start + i);
    const images = await G.generate({ z: zFromSeeds(seeds, G.styleDim), truncation: 1, noise: 'const', domain: s.domain });
    for (const [k, clip] of clips.entries()) rows[k]!.push(...unitRows(await clip.encodeGeneratorImage(images)));
    s.onProgress?.(start + seeds.length, s.count);
  }
  return rows;
}
