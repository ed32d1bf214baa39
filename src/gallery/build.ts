/**
 * `buildGallery`: candidates (seeded, embedded, resumable) → scores against every room's queries →
 * at most one room per picture → the best `perRoom` of each room, diverse → thumbnails and manifest.json.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clip } from '../clip/clip.js';
import type { Generator } from '../generators/generator.js';
import { assignRooms, type AssignmentRule } from './assignment.js';
import { candidateEmbeddings, candidateSeed, type CandidateIdentity } from './candidates.js';
import { domainFileDigest, GALLERY_FORMAT, GALLERY_VERSION, writeManifest, type GalleryManifest } from './manifest.js';
import type { Rooms } from './rooms.js';
import { queryEnsembles, scoreMatrix } from './scoring.js';
import { selectRoomPictures, type SelectionRule } from './selection.js';
import { writeThumbnails } from './thumbnails.js';

export interface GalleryBuildOptions extends AssignmentRule, SelectionRule {
  out: string;
  rooms: Rooms;
  candidates: number;
  /** The model as the user named it (recorded, so `serve` can load it again). */
  modelReference: string;
  domain?: { file: string; vector: Float32Array };
  firstSeed?: number;
  truncation?: number;
  /** Side of the thumbnails in pixels (never above the generator's). */
  thumbnailSize?: number;
  onProgress?: (phase: 'candidates' | 'thumbnails', done: number, total: number) => void;
}

export const GALLERY_DEFAULTS = { minScore: 0.2, margin: 0.005, maxSimilarity: 0.95, thumbnailSize: 256, truncation: 1, firstSeed: 0 } as const;

export async function buildGallery(G: Generator, clip: Clip, o: GalleryBuildOptions): Promise<GalleryManifest> {
  await mkdir(o.out, { recursive: true });
  const domain = o.domain && { file: o.domain.file, digest: await domainFileDigest(o.domain.file) };
  const identity: CandidateIdentity = {
    modelFingerprint: G.source.fingerprint,
    domainDigest: domain?.digest ?? null,
    clip: clip.name,
    firstSeed: o.firstSeed ?? GALLERY_DEFAULTS.firstSeed,
    truncation: o.truncation ?? GALLERY_DEFAULTS.truncation,
  };
  const embeddings = await candidateEmbeddings(G, clip, {
    dir: join(o.out, 'candidates'), count: o.candidates, identity, domain: o.domain?.vector,
    onProgress: (done, total) => o.onProgress?.('candidates', done, total),
  });

  const queries = o.rooms.rooms.flatMap((r) => r.queries);
  const queryRoom = o.rooms.rooms.flatMap((r, i) => r.queries.map(() => i));
  const scores = scoreMatrix(embeddings, await queryEnsembles(clip, queries, o.rooms.templates));
  const assigned = assignRooms(scores, queryRoom, o);
  const chosen = selectRoomPictures(assigned, embeddings, o.rooms.rooms.length, o);

  const rooms = o.rooms.rooms.map((room, r) => ({
    name: room.name, slug: room.slug, queries: room.queries,
    pictures: chosen[r]!.map((a, rank) => {
      const id = `${room.slug}-${rank + 1}`;
      return { id, seed: candidateSeed(identity, a.picture), query: queries[a.query]!, score: a.score, thumbnail: `thumbnails/${id}.png` };
    }),
  }));
  const size = Math.min(G.size, o.thumbnailSize ?? GALLERY_DEFAULTS.thumbnailSize);
  const items = rooms.flatMap((r) => r.pictures.map((p) => ({ seed: p.seed, name: p.id })));
  await writeThumbnails(G, o.out, items, size, { truncation: identity.truncation, domain: o.domain?.vector }, (done, total) => o.onProgress?.('thumbnails', done, total));

  const manifest: GalleryManifest = {
    format: GALLERY_FORMAT, version: GALLERY_VERSION,
    model: { reference: o.modelReference, fingerprint: G.source.fingerprint, size: G.size },
    domain: domain ?? null, clip: clip.name, truncation: identity.truncation, noise: 'const', templates: [...o.rooms.templates],
    candidates: { count: o.candidates, firstSeed: identity.firstSeed },
    rule: { minScore: o.minScore, margin: o.margin, maxSimilarity: o.maxSimilarity, perRoom: o.perRoom },
    rooms,
  };
  await writeManifest(o.out, manifest);
  return manifest;
}
