/**
 * `manifest.json`, what a gallery build leaves beside its thumbnails: where every picture comes from (its
 * seed, the generator's fingerprint, the domain file's digest, the truncation) and where it hangs (room,
 * the query it is named after, its score). The server reads it to know the pictures and to regenerate an
 * owner's full-size image; it never serves the file itself.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';

export const MANIFEST = 'manifest.json';
export const GALLERY_FORMAT = 'ganvec-gallery';
export const GALLERY_VERSION = 1;

export interface GalleryPicture {
  /** `<room slug>-<rank>`: public, and says nothing about the seed. */
  id: string;
  seed: number;
  query: string;
  score: number;
  /** Relative to the gallery folder. */
  thumbnail: string;
}

export interface GalleryRoom {
  name: string;
  slug: string;
  queries: string[];
  pictures: GalleryPicture[];
}

export interface GalleryManifest {
  format: typeof GALLERY_FORMAT;
  version: typeof GALLERY_VERSION;
  /** As given to the build (a registry name or a path), the weights' fingerprint and the image side. */
  model: { reference: string; fingerprint: string; size: number };
  /** The domain file as given and the sha256 of its bytes; null for the original generator. */
  domain: { file: string; digest: string } | null;
  clip: string;
  truncation: number;
  noise: 'const';
  templates: string[];
  candidates: { count: number; firstSeed: number };
  rule: { minScore: number; margin: number; maxSimilarity: number; perRoom: number };
  rooms: GalleryRoom[];
}

export async function writeManifest(dir: string, manifest: GalleryManifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
}

const ID = /^[a-z0-9-]{1,80}$/;
const THUMBNAIL = /^thumbnails\/[a-z0-9-]{1,80}\.png$/;

/** Reads a gallery's manifest, checking what the server relies on (ids, seeds, thumbnail paths inside the folder). */
export async function readManifest(dir: string): Promise<GalleryManifest> {
  const path = join(dir, MANIFEST);
  let m: GalleryManifest;
  try {
    m = JSON.parse(await readFile(path, 'utf8')) as GalleryManifest;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`${path}: ${e.code === 'ENOENT' ? 'no such file (is this a folder made by `ganvec gallery build`?)' : `not a gallery manifest (${e.message})`}`);
  }
  const fail = (problem: string) => new Error(`${path}: ${problem}`);
  if (m?.format !== GALLERY_FORMAT || m.version !== GALLERY_VERSION) throw fail(`not a ${GALLERY_FORMAT} version ${GALLERY_VERSION} manifest`);
  if (typeof m.model?.fingerprint !== 'string' || typeof m.model.reference !== 'string') throw fail('its model has no reference or fingerprint');
  if (!Array.isArray(m.rooms)) throw fail('it lists no rooms');
  const ids = new Set<string>();
  for (const room of m.rooms) {
    if (typeof room?.slug !== 'string' || !ID.test(room.slug) || !Array.isArray(room.pictures)) throw fail(`room ${JSON.stringify(room?.name)} is malformed`);
    for (const p of room.pictures) {
      if (typeof p?.id !== 'string' || !ID.test(p.id) || ids.has(p.id)) throw fail(`picture id ${JSON.stringify(p?.id)} is malformed or repeated`);
      if (!Number.isSafeInteger(p.seed) || p.seed < 0 || p.seed > 2 ** 32 - 1) throw fail(`picture ${p.id} has seed ${JSON.stringify(p.seed)}`);
      if (typeof p.thumbnail !== 'string' || !THUMBNAIL.test(p.thumbnail)) throw fail(`picture ${p.id} has thumbnail ${JSON.stringify(p.thumbnail)}`);
      ids.add(p.id);
    }
  }
  return m;
}

/** sha256 of a domain file's bytes, as the manifest records it. */
export async function domainFileDigest(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}
