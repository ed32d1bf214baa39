/**
 * Gallery build speed: seconds per 1,000 candidates (sample, generate, CLIP-embed, save) and the rest of
 * a build (the queries' template ensembles, scoring, choosing, thumbnails, manifest), on the tiny test
 * fixtures and on a 256 px config-f generator with random weights of the real shapes and a random-weight
 * ViT-B/32. Each build runs once after a warm-up build (sessions built, first-run allocations).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Clip } from '../src/clip/clip.js';
import { buildGallery } from '../src/gallery/build.js';
import { readRooms } from '../src/gallery/rooms.js';
import { Generator } from '../src/generators/generator.js';
import { stylegan2 } from '../src/generators/stylegan2/family.js';
import { randomRosinalityStateDict } from '../src/generators/stylegan2/random-weights.js';
import { fromRosinality } from '../src/generators/stylegan2/rosinality.js';
import { loadClip, loadGenerator } from '../src/registry/load.js';
import { randomClipWeights } from './clip.js';
import type { BenchRow } from './measure.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const GOLDENS = join(REPO, 'test/fixtures/goldens');

async function timeBuild(G: Generator, clip: Clip, label: string, candidates: number): Promise<BenchRow[]> {
  const rooms = await readRooms(join(REPO, 'examples/gallery/rooms.json'));
  const dir = await mkdtemp(join(tmpdir(), 'ganvec-bench-gallery-'));
  try {
    const common = { rooms, perRoom: 8, modelReference: label, minScore: -1, margin: 0, maxSimilarity: 0.99 };
    await buildGallery(G, clip, { ...common, out: join(dir, 'warm-up'), candidates: 8 });
    let candidatesDone = 0;
    const t0 = performance.now();
    await buildGallery(G, clip, {
      ...common, out: join(dir, 'timed'), candidates,
      onProgress: (phase, done, total) => {
        if (phase === 'candidates' && done === total) candidatesDone = performance.now();
      },
    });
    const end = performance.now();
    return [
      { name: `gallery build, ${label}: candidates (${candidates} timed)`, value: ((candidatesDone - t0) / 1000 / candidates) * 1000, unit: 's per 1,000 candidates' },
      { name: `gallery build, ${label}: the rest (24 queries × 6 templates, choice, thumbnails)`, value: (end - candidatesDone) / 1000, unit: 's' },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchGalleryTiny(): Promise<BenchRow[]> {
  const G = await loadGenerator(join(GOLDENS, 'sg2-tiny-a/ckpt.pt'), { batch: 8 });
  const clip = await loadClip(join(GOLDENS, 'clip-tiny-a/clip_state_dict.pt'), { batch: 8 });
  try {
    return await timeBuild(G, clip, 'tiny fixtures (32 px, tiny CLIP)', 1024);
  } finally {
    await Promise.all([G.release(), clip.release()]);
  }
}

export async function benchGallery256(): Promise<BenchRow[]> {
  const arch = fromRosinality(randomRosinalityStateDict({ size: 256 }));
  const G = new Generator(stylegan2, arch, { format: 'random', path: '-', fingerprint: 'random-256' }, { batch: 1 });
  const clip = new Clip(randomClipWeights('ViT-B/32'), 'ViT-B/32 (random weights)', { format: 'random', path: '-' }, { batch: 8 });
  try {
    return await timeBuild(G, clip, '256 px config-f + ViT-B/32, random weights', 64);
  } finally {
    await Promise.all([G.release(), clip.release()]);
  }
}
