/**
 * Projections kept by what determines them: the photo's bytes, the generator's weights (fingerprint), the
 * LPIPS weights and the settings. `stylize` of the same photo again skips the optimisation.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../core/tensor.js';
import { readWFile, writeProjectedW } from '../generators/w-file.js';

export interface ProjectionKey {
  photo: Uint8Array;
  generatorFingerprint: string;
  /** Whatever else changes the result: LPIPS weight paths or names, steps, seed, face index. */
  settings: Record<string, string | number>;
}

export function projectionDigest(key: ProjectionKey): string {
  const h = createHash('sha256');
  h.update(createHash('sha256').update(key.photo).digest('hex'));
  h.update(`\0${key.generatorFingerprint}\0${JSON.stringify(Object.entries(key.settings).sort(([a], [b]) => a.localeCompare(b)))}`);
  return h.digest('hex');
}

export class ProjectionCache {
  constructor(readonly dir: string) {}

  pathOf(digest: string): string {
    return join(this.dir, `${digest}.npz`);
  }

  /** The cached W+ [1, L, D], or undefined. */
  async get(digest: string, nLatent: number, wDim: number): Promise<Tensor | undefined> {
    const path = this.pathOf(digest);
    if (!existsSync(path)) return undefined;
    return (await readWFile(path, nLatent, wDim)).rows;
  }

  put(digest: string, ws: Tensor): string {
    mkdirSync(this.dir, { recursive: true });
    const path = this.pathOf(digest);
    writeProjectedW(path, ws);
    return path;
  }
}
