/**
 * The build's candidates: picture i is the image of seed `firstSeed + i` (z as NumPy's RandomState draws
 * it), generated with the gallery's truncation, constant noise and domain, and embedded by CLIP. The unit
 * embeddings are written in chunks under `dir` (each chunk a float32 .npy, written atomically, then the
 * progress file `candidates.json`), so an interrupted build resumes at the first missing chunk. The
 * progress file records what the embeddings depend on; resuming with other settings is refused.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clip } from '../clip/clip.js';
import type { Generator } from '../generators/generator.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readNpy, writeNpy } from '../io/npy.js';
import { unitRows } from '../train/unit-vectors.js';
import { renderSeeds } from './render.js';

/** Everything the embeddings depend on; a resumed build must match it exactly. */
export interface CandidateIdentity {
  modelFingerprint: string;
  /** sha256 of the domain file, or null for the original generator. */
  domainDigest: string | null;
  clip: string;
  firstSeed: number;
  truncation: number;
}

export interface CandidateOptions {
  dir: string;
  count: number;
  identity: CandidateIdentity;
  domain?: Float32Array;
  onProgress?: (done: number, total: number) => void;
}

/** Candidates per chunk file: one chunk of work is lost at most when a build is killed. */
export const CHUNK = 64;
const PROGRESS = 'candidates.json';

interface Progress {
  identity: CandidateIdentity;
  chunk: number;
  /** Candidates embedded so far (whole chunks, or all of a shorter build). */
  done: number;
}

export function candidateSeed(identity: CandidateIdentity, picture: number): number {
  return identity.firstSeed + picture;
}

/** Unit embeddings of candidates 0 … count−1, generating only those not already on disk. */
export async function candidateEmbeddings(G: Generator, clip: Clip, o: CandidateOptions): Promise<Float64Array[]> {
  await mkdir(o.dir, { recursive: true });
  const progress = await readProgress(o.dir, o.identity);
  const rows: Float64Array[] = [];
  const chunks = Math.ceil(o.count / CHUNK);
  for (let c = 0; c < chunks; c++) {
    const start = c * CHUNK;
    const size = Math.min(CHUNK, o.count - start);
    const file = join(o.dir, `candidates-${String(c).padStart(5, '0')}.npy`);
    // A chunk on disk may be shorter than this build wants (a smaller earlier build): then it is redone.
    if (start + size <= progress.done) {
      const t = await readNpy(file);
      if (t.shape[0]! < size || !(t.data instanceof Float32Array)) throw new Error(`${file}: holds ${t.shape[0]} rows, the progress file says ${size}; remove ${o.dir} to start again`);
      rows.push(...unitRows({ data: t.data.subarray(0, size * t.shape[1]!), shape: [size, t.shape[1]!] }));
    } else {
      const seeds = Array.from({ length: size }, (_, i) => candidateSeed(o.identity, start + i));
      const images = await renderSeeds(G, seeds, { truncation: o.identity.truncation, domain: o.domain });
      const features = await clip.encodeGeneratorImage(images);
      // Kept as float32 and renormalised on reading, as a resumed build reads them, so both give the same gallery.
      const stored = { data: Float32Array.from(unitRows(features).flatMap((r) => [...r])), shape: [size, features.shape[1]!] };
      await writeNpy(file, stored);
      progress.done = Math.max(progress.done, start + size);
      await writeFileAtomic(join(o.dir, PROGRESS), `${JSON.stringify(progress, null, 1)}\n`);
      rows.push(...unitRows(stored));
    }
    o.onProgress?.(start + size, o.count);
  }
  return rows;
}

async function readProgress(dir: string, identity: CandidateIdentity): Promise<Progress> {
  const path = join(dir, PROGRESS);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { identity, chunk: CHUNK, done: 0 };
    throw err;
  }
  let stored: Progress;
  try {
    stored = JSON.parse(text) as Progress;
  } catch {
    throw new Error(`${path} is not JSON; remove ${dir} to start the candidates again`);
  }
  const differs = (Object.keys(identity) as Array<keyof CandidateIdentity>).filter((k) => stored.identity?.[k] !== identity[k]);
  if (differs.length > 0 || stored.chunk !== CHUNK || !Number.isSafeInteger(stored.done)) {
    const what = differs.map((k) => `${k} ${JSON.stringify(stored.identity?.[k])} → ${JSON.stringify(identity[k])}`).join(', ') || 'its layout';
    throw new Error(`${path} was made with other settings (${what}); use another --out, or remove ${dir} to start again`);
  }
  return stored;
}
