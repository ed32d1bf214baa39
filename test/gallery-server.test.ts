/**
 * `ganvec gallery serve`: 50 simultaneous claims of one picture (exactly one wins, and the database
 * agrees), a server killed with SIGKILL and restarted (the claim and the owner's download survive), the
 * owner's download is the seed's image, and every route refuses what it should: other visitors, forged
 * tokens, other sites, other host names, unknown ids and paths, oversized bodies, too many claims.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { buildGallery } from '../src/gallery/build.js';
import { ClaimsDb } from '../src/gallery/claims-db.js';
import type { GalleryManifest } from '../src/gallery/manifest.js';
import { picturePage, roomPage } from '../src/gallery/pages.js';
import { RateLimit } from '../src/gallery/rate-limit.js';
import { parseRooms } from '../src/gallery/rooms.js';
import { serveGallery, type GalleryServer } from '../src/gallery/server.js';
import { loadClip, loadGenerator } from '../src/registry/load.js';
import type { Generator } from '../src/generators/generator.js';
import { zFromSeeds } from '../src/generators/latents.js';
import { imageToRgb8 } from '../src/io/image.js';
import { REPO } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';

const GENERATOR = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const CLIP = `${GOLDENS}clip-tiny-a/clip_state_dict.pt`;
const TRUNCATION = 0.7;

let dir: string;
let gallery: string;
let G: Generator;
let manifest: GalleryManifest;

/** `ganvec gallery serve` as a child process, resolved once it prints its address. */
function startCli(db: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${REPO}src/cli/main.ts`, 'gallery', 'serve', gallery, '--port', '0', '--db', db, '--claims-per-minute', '1000'], {
    cwd: REPO, env: { ...process.env, GANVEC_OFFLINE: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = / at (http:\/\/\S+)\/\n/.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('exit', (code) => reject(new Error(`gallery serve exited with ${code}: ${err}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const claim = (url: string, id: string, headers: Record<string, string> = {}) => fetch(`${url}/pictures/${id}/claim`, { method: 'POST', redirect: 'manual', headers });
const cookieOf = (r: Response) => r.headers.get('set-cookie')?.split(';')[0];

/** fetch() will not send another Host header; node:http will. */
function statusWithHost(url: string, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    request(`${url}/`, { headers: { host } }, (res) => (res.resume(), resolve(res.statusCode))).on('error', reject).end();
  });
}

async function seedPixels(seed: number): Promise<Uint8Array> {
  return imageToRgb8(await G.generate({ z: zFromSeeds([seed], G.styleDim), truncation: TRUNCATION, noise: 'const' }), 0);
}

async function pngPixels(r: Response): Promise<Uint8Array> {
  return new Uint8Array((await sharp(Buffer.from(await r.arrayBuffer())).raw().toBuffer()));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-gallery-serve-'));
  gallery = join(dir, 'gallery');
  G = await loadGenerator(GENERATOR, { batch: 8 });
  const clip = await loadClip(CLIP, { batch: 8 });
  const rooms = parseRooms({ templates: ['art of {}.'], rooms: [{ name: 'People', queries: ['beauty', 'master'] }, { name: 'Mood', queries: ['loneliness', 'a dream'] }] });
  manifest = await buildGallery(G, clip, {
    out: gallery, rooms, candidates: 64, perRoom: 3, modelReference: GENERATOR, truncation: TRUNCATION, minScore: -1, margin: 0, maxSimilarity: 1,
  });
  await clip.release();
  assert.ok(manifest.rooms.every((r) => r.pictures.length === 3), 'each room has pictures');
});
after(async () => {
  await G.release();
  await rm(dir, { recursive: true, force: true });
});

describe('claims', () => {
  it('50 simultaneous claims of one picture: exactly one wins, the database agrees, and a SIGKILLed server restarts with it', async () => {
    const db = join(dir, 'claims-a');
    const picture = manifest.rooms[0]!.pictures[1]!;
    let server = await startCli(db);
    try {
      const responses = await Promise.all(Array.from({ length: 50 }, () => claim(server.url, picture.id)));
      const statuses = responses.map((r) => r.status);
      assert.deepEqual([statuses.filter((s) => s === 303).length, statuses.filter((s) => s === 409).length], [1, 49], statuses.join(','));
      const winner = responses.find((r) => r.status === 303)!;
      const cookie = cookieOf(winner)!;
      assert.match(winner.headers.get('set-cookie')!, /HttpOnly; SameSite=Strict/);
      assert.ok(responses.every((r) => r === winner || r.headers.get('set-cookie') === null), 'losers get no token');

      const download = await fetch(`${server.url}/pictures/${picture.id}/full.png`, { headers: { cookie } });
      assert.equal(download.status, 200);
      assert.deepEqual(await pngPixels(download), await seedPixels(picture.seed));

      // Killed without warning, then started again on the same database.
      await killed(server.child);
      server = await startCli(db);
      const again = await fetch(`${server.url}/pictures/${picture.id}/full.png`, { headers: { cookie } });
      assert.equal(again.status, 200, 'the owner still downloads after the restart');
      assert.match(await (await fetch(`${server.url}/pictures/${picture.id}`, { headers: { cookie } })).text(), /This picture is yours/);
      assert.equal((await claim(server.url, picture.id)).status, 409, 'still taken after the restart');
      assert.equal((await fetch(`${server.url}/pictures/${picture.id}/full.png`)).status, 403);
    } finally {
      await killed(server.child);
    }
    const claims = await ClaimsDb.open(db);
    try {
      assert.deepEqual([await claims.claimCount(picture.id), await claims.claimCount(), await claims.schemaVersions()], [1, 1, [1]]);
    } finally {
      await claims.close();
    }
  });
});

describe('the routes', () => {
  let server: GalleryServer;
  const people = () => manifest.rooms[0]!.pictures;

  before(async () => {
    server = await serveGallery({ dir: gallery, db: join(dir, 'claims-b'), generator: G, port: 0, claimsPerMinute: 4 });
  });
  after(async () => server.close());

  it('lets a visitor own several pictures and refuses everyone else the download', async () => {
    const first = await claim(server.url, people()[0]!.id);
    const cookie = cookieOf(first)!;
    assert.equal(first.status, 303);
    const second = await claim(server.url, people()[2]!.id, { cookie });
    assert.equal(second.status, 303);
    assert.equal(second.headers.get('set-cookie'), null, 'the same token serves both');
    const room = await (await fetch(`${server.url}/rooms/people`, { headers: { cookie } })).text();
    assert.equal(room.match(/>yours</g)?.length, 2);
    const png = await fetch(`${server.url}/pictures/${people()[2]!.id}/full.png`, { headers: { cookie } });
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('cache-control'), 'private, no-store');
    assert.deepEqual(await pngPixels(png), await seedPixels(people()[2]!.seed));

    // A forged token for the owner's visitor id, a malformed cookie, another visitor: all refused.
    const [id] = cookie.split('=')[1]!.split('.');
    const forged = `ganvec_owner=${id}.${Buffer.alloc(32, 7).toString('base64url')}`;
    for (const c of [forged, 'ganvec_owner=1.x', '']) {
      const r = await fetch(`${server.url}/pictures/${people()[0]!.id}/full.png`, { headers: c ? { cookie: c } : {} });
      assert.equal(r.status, 403, c);
    }
  });

  it('shows no seeds, digests or manifest to visitors', async () => {
    const pages = await Promise.all(['/', '/rooms/people', `/pictures/${people()[1]!.id}`].map(async (p) => (await fetch(`${server.url}${p}`)).text()));
    for (const text of pages) {
      assert.doesNotMatch(text, /seed|fingerprint|digest|manifest/i);
      assert.ok(!text.includes(manifest.model.fingerprint));
    }
    for (const p of ['/manifest.json', '/thumbnails/../manifest.json', '/%2e%2e/manifest.json', '/thumbnails/..%2fmanifest.json', '/claims-b/PG_VERSION', '/candidates/candidates.json']) {
      assert.equal((await fetch(`${server.url}${p}`)).status, 404, p);
    }
  });

  it('validates every route: unknown ids, methods, other sites and hosts, bodies, and the claim rate', async () => {
    assert.equal((await fetch(`${server.url}/rooms/nowhere`)).status, 404);
    assert.equal((await fetch(`${server.url}/pictures/people-999`)).status, 404);
    assert.equal((await fetch(`${server.url}/pictures/PEOPLE-1`)).status, 404);
    assert.equal((await claim(server.url, 'people-999')).status, 404);
    const get = await fetch(`${server.url}/pictures/${people()[1]!.id}/claim`);
    assert.deepEqual([get.status, get.headers.get('allow')], [405, 'POST']);
    assert.equal((await fetch(`${server.url}/`, { method: 'DELETE' })).status, 405);
    assert.equal((await claim(server.url, people()[1]!.id, { origin: 'http://evil.example' })).status, 403);
    assert.equal((await claim(server.url, people()[1]!.id, { 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal(await statusWithHost(server.url, 'evil.example'), 421, 'DNS rebinding: another host name');
    const big = await fetch(`${server.url}/pictures/${people()[1]!.id}/claim`, { method: 'POST', body: 'x'.repeat(5000), redirect: 'manual' });
    assert.equal(big.status, 413);
    // Two claims were made in the test before; the limit is 4 a minute per address.
    const mood = manifest.rooms[1]!.pictures;
    assert.equal((await claim(server.url, mood[0]!.id)).status, 303);
    assert.equal((await claim(server.url, mood[1]!.id)).status, 303);
    const limited = await claim(server.url, mood[2]!.id);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(await server.claims.ownerOf(mood[2]!.id), undefined, 'a refused claim leaves no trace');
  });
});

describe('RateLimit', () => {
  it('allows `limit` events in any window per client and forgets idle clients', () => {
    let now = 0;
    const limit = new RateLimit(2, 1000, () => now);
    assert.deepEqual([limit.take('a'), limit.take('a'), limit.take('b')].map((r) => r.allowed), [true, true, true]);
    now = 400;
    assert.deepEqual(limit.take('a'), { allowed: false, retryAfterSeconds: 1 });
    now = 1000;
    assert.deepEqual([limit.take('a'), limit.take('a')].map((r) => r.allowed), [true, true], 'the first events left the window');
    assert.equal(limit.take('a').allowed, false);
  });
});

describe('serveGallery', () => {
  it('refuses another generator or a domain the gallery was not built in', async () => {
    const other = await loadGenerator(`${GOLDENS}sg2ada-tiny-a/network-snapshot.pkl`);
    await assert.rejects(serveGallery({ dir: gallery, db: join(dir, 'claims-c'), generator: other, port: 0 }), /was built with a generator of fingerprint/);
    await other.release();
    const npy = join(dir, 'd.npy');
    await writeFile(npy, Buffer.alloc(0));
    await assert.rejects(serveGallery({ dir: gallery, db: join(dir, 'claims-c'), generator: G, port: 0, domain: { file: npy, vector: new Float32Array(G.domainSize) } }), /was built without a domain/);
  });
});

describe('pages', () => {
  it('escape every text that comes from the rooms file', () => {
    const room = { name: 'A & <B>', slug: 'a-b', queries: ['<script>alert("x")</script>'], pictures: [{ id: 'a-b-1', seed: 5, query: '<script>alert("x")</script>', score: 0.5, thumbnail: 'thumbnails/a-b-1.png' }] };
    for (const html of [roomPage(room, () => 'available'), picturePage(room, 'a-b-1', 'available')]) {
      assert.ok(!html.includes('<script>') && !html.includes('<B>'), html);
      assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
      assert.match(html, /A &amp; &lt;B&gt;/);
    }
  });
});
