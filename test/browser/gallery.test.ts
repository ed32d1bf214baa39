/**
 * The gallery in a real browser (Debian's chromium through playwright-core, headless): a visitor walks
 * from the rooms into a room, opens a picture, claims it and downloads it (the seed's image, full size);
 * a second browser context sees it taken and is refused the download and the claim.
 * Run by `npm run test:browser` (.ci/browser installs chromium when it is missing; CI runs it).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { buildGallery } from '../../src/gallery/build.js';
import type { GalleryManifest } from '../../src/gallery/manifest.js';
import { parseRooms } from '../../src/gallery/rooms.js';
import { serveGallery, type GalleryServer } from '../../src/gallery/server.js';
import type { Generator } from '../../src/generators/generator.js';
import { zFromSeeds } from '../../src/generators/latents.js';
import { imageToRgb8 } from '../../src/io/image.js';
import { loadClip, loadGenerator } from '../../src/registry/load.js';
import { GOLDENS } from '../helpers/golden.js';

const CHROMIUM = process.env.GANVEC_CHROMIUM ?? '/usr/bin/chromium';

let dir: string;
let G: Generator;
let manifest: GalleryManifest;
let server: GalleryServer;
let browser: Browser;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-gallery-browser-'));
  G = await loadGenerator(`${GOLDENS}sg2-tiny-a/ckpt.pt`, { batch: 8 });
  const clip = await loadClip(`${GOLDENS}clip-tiny-a/clip_state_dict.pt`, { batch: 8 });
  const rooms = parseRooms({ templates: ['art of {}.'], rooms: [{ name: 'People', queries: ['beauty', 'master'] }, { name: 'Mood', queries: ['loneliness', 'a dream'] }] });
  manifest = await buildGallery(G, clip, {
    out: join(dir, 'gallery'), rooms, candidates: 64, perRoom: 4, modelReference: 'sg2-tiny-a', minScore: -1, margin: 0, maxSimilarity: 1,
  });
  await clip.release();
  server = await serveGallery({ dir: join(dir, 'gallery'), db: join(dir, 'claims'), generator: G, port: 0 });
  // Root in CI containers: chromium's sandbox needs user namespaces it may not have.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await G?.release();
  await rm(dir, { recursive: true, force: true });
});

it('a visitor walks a room, claims a picture and downloads it; another browser is refused', async () => {
  const room = manifest.rooms[0]!;
  const picture = room.pictures[1]!;

  const owner = await browser.newContext({ acceptDownloads: true });
  const page = await owner.newPage();
  await page.goto(`${server.url}/`);
  await page.getByRole('link', { name: room.name }).click();
  await page.waitForURL(`${server.url}/rooms/${room.slug}`);
  assert.equal(await page.locator('ul.wall li').count(), room.pictures.length);
  // Every thumbnail loaded (the CSP allows the gallery's own images and stylesheet, nothing else).
  const widths = await page.locator('ul.wall img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
  assert.deepEqual(widths, room.pictures.map(() => G.size));
  await page.locator(`a[href="/pictures/${picture.id}"]`).click();
  await page.waitForURL(`${server.url}/pictures/${picture.id}`);
  assert.equal(await page.locator('h1').textContent(), picture.query);
  await page.getByRole('button', { name: 'Claim this picture' }).click();
  await page.getByText('This picture is yours.').waitFor();

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download full size' }).click()]);
  assert.equal(download.suggestedFilename(), `${picture.query.replace(/[^A-Za-z0-9 _-]/g, '_')}.png`);
  const saved = join(dir, 'download.png');
  await download.saveAs(saved);
  const { data, info } = await sharp(await readFile(saved)).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [G.size, G.size]);
  const expected = imageToRgb8(await G.generate({ z: zFromSeeds([picture.seed], G.styleDim), noise: 'const' }), 0);
  assert.deepEqual(new Uint8Array(data), expected, 'the download is the picture\'s seed, full size');
  const cookies = await owner.cookies();
  assert.deepEqual(cookies.map((c) => [c.name, c.httpOnly, c.sameSite]), [['ganvec_owner', true, 'Strict']]);

  const other = await browser.newContext({ acceptDownloads: true });
  const visitor = await other.newPage();
  await visitor.goto(`${server.url}/rooms/${room.slug}`);
  assert.equal(await visitor.locator(`a[href="/pictures/${picture.id}"] + .status`).textContent(), 'taken');
  await visitor.goto(`${server.url}/pictures/${picture.id}`);
  await visitor.getByText('This picture is taken').waitFor();
  assert.equal(await visitor.getByRole('button', { name: 'Claim this picture' }).count(), 0);
  assert.equal(await visitor.getByRole('link', { name: 'Download full size' }).count(), 0);
  const refused = await visitor.goto(`${server.url}/pictures/${picture.id}/full.png`);
  assert.equal(refused?.status(), 403);
  assert.match(await visitor.content(), /Only the owner of this picture can download it/);
  const claim = await other.request.post(`${server.url}/pictures/${picture.id}/claim`, { maxRedirects: 0 });
  assert.equal(claim.status(), 409);
  assert.deepEqual(await other.cookies(), [], 'a refused visitor gets no token');
  await Promise.all([owner.close(), other.close()]);
});
