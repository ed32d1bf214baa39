/** Thumbnails of the chosen pictures, regenerated from their seeds (cheaper than keeping every candidate's image). */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Generator } from '../generators/generator.js';
import { writeFileAtomic } from '../io/atomic.js';
import { pngOfSize, renderSeeds, type Rendering } from './render.js';

/** Writes `<dir>/thumbnails/<name>.png` for each (seed, name), `G.batch` images at a time. */
export async function writeThumbnails(
  G: Generator, dir: string, items: ReadonlyArray<{ seed: number; name: string }>, size: number, r: Rendering,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  await mkdir(join(dir, 'thumbnails'), { recursive: true });
  for (let start = 0; start < items.length; start += G.batch) {
    const chunk = items.slice(start, start + G.batch);
    const images = await renderSeeds(G, chunk.map((c) => c.seed), r);
    for (const [i, c] of chunk.entries()) await writeFileAtomic(join(dir, 'thumbnails', `${c.name}.png`), await pngOfSize(images, i, size));
    onProgress?.(start + chunk.length, items.length);
  }
}
