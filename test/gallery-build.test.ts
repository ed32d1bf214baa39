/**
 * `ganvec gallery build` on the tiny fixtures: the manifest's scores are the cosines of each seed's image
 * to its query's template ensemble (recomputed here independently), its choices follow the rule, the
 * thumbnails are the seeds' images, and an interrupted build resumes without regenerating candidates.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadClip, loadGenerator } from '../src/registry/load.js';
import type { Clip } from '../src/clip/clip.js';
import type { Generator } from '../src/generators/generator.js';
import { zFromSeeds } from '../src/generators/latents.js';
import { imageToRgb8 } from '../src/io/image.js';
import type { GalleryManifest } from '../src/gallery/manifest.js';
import { runCli } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';
import { unitRowsOf } from './helpers/unit-rows.js';

const GENERATOR = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const CLIP = `${GOLDENS}clip-tiny-a/clip_state_dict.pt`;
const TEMPLATES = ['a painting of {}.', 'art of {}.'];
const ROOMS = { templates: TEMPLATES, rooms: [{ name: 'People', queries: ['beauty', 'master'] }, { name: 'Mood', queries: ['loneliness', 'a dream'] }] };
const N = 70; // two chunks of candidates, the second partial

let dir: string;
let G: Generator;
let clip: Clip;

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, k) => s + x * b[k]!, 0);
const build = (out: string, ...extra: string[]) => runCli([
  'gallery', 'build', '--model', GENERATOR, '--clip', CLIP, '--rooms', join(dir, 'rooms.json'), '--candidates', String(N),
  '--per-room', '5', '--min-score', '-1', '--margin', '0.001', '--max-similarity', '0.999', '--truncation', '0.7', '--out', out, ...extra,
]);

async function queryVector(query: string): Promise<Float64Array> {
  const rows = unitRowsOf(await clip.encodeText(TEMPLATES.map((t) => t.replace('{}', query))));
  const mean = rows[0]!.map((_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);
  const n = Math.sqrt(dot(mean, mean));
  return mean.map((x) => x / n);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-gallery-'));
  await writeFile(join(dir, 'rooms.json'), JSON.stringify(ROOMS));
  G = await loadGenerator(GENERATOR, { batch: 8 });
  clip = await loadClip(CLIP, { batch: 8 });
});
after(async () => {
  await Promise.all([G.release(), clip.release()]);
  await rm(dir, { recursive: true, force: true });
});

describe('gallery build', () => {
  let manifest: GalleryManifest;
  const out = () => join(dir, 'g');

  before(async () => {
    const r = await build(out());
    assert.equal(r.code, 0, r.stderr);
    manifest = JSON.parse(await readFile(join(out(), 'manifest.json'), 'utf8')) as GalleryManifest;
  });

  it('records the model fingerprint, settings and every picture\'s seed, query and score, which recompute independently', async () => {
    assert.equal(manifest.model.fingerprint, G.source.fingerprint);
    assert.deepEqual([manifest.truncation, manifest.candidates, manifest.domain], [0.7, { count: N, firstSeed: 0 }, null]);
    const seeds = Array.from({ length: N }, (_, i) => i);
    const images = await G.generate({ z: zFromSeeds(seeds, G.styleDim), truncation: 0.7, noise: 'const' });
    const embeddings = unitRowsOf(await clip.encodeGeneratorImage(images));
    const queries = ROOMS.rooms.flatMap((r, room) => r.queries.map((q) => ({ q, room })));
    const vectors = await Promise.all(queries.map(({ q }) => queryVector(q)));
    // Expected choice per room: best query, the margin over the other room, then the top 5 by score.
    const expected: Array<Array<{ seed: number; query: string; score: number }>> = [[], []];
    embeddings.forEach((e, seed) => {
      const s = vectors.map((v) => dot(e, v));
      const best = s.indexOf(Math.max(...s));
      const room = queries[best]!.room;
      const other = Math.max(...s.filter((_, k) => queries[k]!.room !== room));
      if (s[best]! - other >= 0.001) expected[room]!.push({ seed, query: queries[best]!.q, score: s[best]! });
    });
    manifest.rooms.forEach((room, r) => {
      const want = expected[r]!.sort((a, b) => b.score - a.score).slice(0, 5);
      assert.deepEqual(room.pictures.map((p) => [p.id, p.seed, p.query]), want.map((w, i) => [`${room.slug}-${i + 1}`, w.seed, w.query]));
      room.pictures.forEach((p, i) => assert.ok(Math.abs(p.score - want[i]!.score) < 1e-5, `${p.id}: ${p.score} vs ${want[i]!.score}`));
    });
    assert.ok(manifest.rooms.every((r) => r.pictures.length === 5), 'both rooms filled');
  });

  it('writes each thumbnail as its seed\'s image', async () => {
    const p = manifest.rooms[1]!.pictures[0]!;
    const image = await G.generate({ z: zFromSeeds([p.seed], G.styleDim), truncation: 0.7, noise: 'const' });
    const { data, info } = await sharp(join(out(), p.thumbnail)).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [32, 32, 3]);
    assert.deepEqual(new Uint8Array(data), imageToRgb8(image, 0));
  });

  it('resumes from the saved candidates and refuses to mix in other settings', async () => {
    await unlink(join(out(), 'candidates', 'candidates-00001.npy'));
    // The progress file says both chunks are done, so a missing chunk is an error, named.
    const missing = await build(out());
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /candidates-00001\.npy/);

    const fresh = join(dir, 'resumed');
    assert.equal((await build(fresh, '--candidates', '64')).code, 0);
    const first = (await stat(join(fresh, 'candidates', 'candidates-00000.npy'))).mtimeMs;
    const r = await build(fresh);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stat(join(fresh, 'candidates', 'candidates-00000.npy'))).mtimeMs, first, 'chunk 0 was not regenerated');
    assert.deepEqual(JSON.parse(await readFile(join(fresh, 'manifest.json'), 'utf8')), manifest);

    const other = await build(fresh, '--truncation', '0.5');
    assert.equal(other.code, 1);
    assert.match(other.stderr, /other settings \(truncation 0\.7 → 0\.5\)/);
  });

  it('refuses a bad rooms file in one line naming it', async () => {
    await writeFile(join(dir, 'bad.json'), '{"rooms": [{"name": "A", "queries": []}]}');
    const r = await runCli(['gallery', 'build', '--model', GENERATOR, '--clip', CLIP, '--rooms', join(dir, 'bad.json'), '--out', join(dir, 'x')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /bad\.json: room "A" needs a non-empty list of "queries"/);
  });
});
