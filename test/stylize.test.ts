/**
 * `ganvec stylize` end to end on the fixtures: a real photo (astronaut.png) aligned at the tiny generator's
 * 32 px, projected with the tiny LPIPS, drawn in two domains, side by side; the second run reuses the
 * cached projection and writes the same image; with --save-video it projects again to draw the video.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { astronautPhoto } from './helpers/astronaut.js';
import { runCli } from './helpers/cli.js';
import { probe } from './helpers/decode-video.js';
import { GOLDENS } from './helpers/golden.js';

const SG2 = `${GOLDENS}sg2-tiny-a/`;
const LPIPS = `${GOLDENS}lpips-tiny-a/`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-stylize-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('align, invert (cached by the photo), generate in each domain, side by side', async () => {
  const photo = astronautPhoto();
  const half = join(dir, 'half.npy');
  const domain = (await readNpy(`${SG2}domain.npy`)) as { data: Float32Array; shape: number[] };
  await writeNpy(half, { data: domain.data.map((v) => v * 0.5), shape: domain.shape });
  const env = { GANVEC_HOME: join(dir, 'home') };
  const args = (out: string) => [
    'stylize', photo, '--model', `${SG2}ckpt.pt`, '--domain', `${SG2}domain.npy`, '--domain', half, '--out', out,
    '--steps', '10', '--lpips-trunk', `${LPIPS}vgg16.pth`, '--lpips-lin', `${LPIPS}lpips_vgg.pth`,
  ];
  const first = await runCli(args(join(dir, 'first.png')), { env });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /stylize: projecting, step 10\/10/);
  assert.match(first.stderr, /projection cached as .*projections\/[0-9a-f]{64}\.npz/);
  const { data, info } = await sharp(join(dir, 'first.png')).raw().toBuffer({ resolveWithObject: true });
  // One row of four 32 px cells with the grid's 2 px gutters around and between them.
  const gutter = 2;
  assert.deepEqual([info.width, info.height], [gutter + 4 * (32 + gutter), 32 + 2 * gutter], 'photo, reconstruction and two domains of 32 px');
  // The panels differ: the domains change the reconstruction.
  const at = (i: number, y: number) => ((gutter + y) * info.width + gutter + i * (32 + gutter)) * 3;
  const panel = (i: number) => Buffer.concat(Array.from({ length: 32 }, (_, y) => data.subarray(at(i, y), at(i, y) + 32 * 3)));
  assert.notDeepEqual(panel(1), panel(2));
  assert.notDeepEqual(panel(2), panel(3));
  assert.equal((await readdir(join(dir, 'home', 'projections'))).length, 1);

  const second = await runCli(args(join(dir, 'second.png')), { env });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /using the cached projection/);
  assert.doesNotMatch(second.stderr, /projecting/);
  assert.deepEqual(await sharp(join(dir, 'second.png')).raw().toBuffer(), data);

  const video = join(dir, 'projection.gif');
  const third = await runCli([...args(join(dir, 'third.png')), '--save-video', video], { env });
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /stylize: projecting, step 10\/10/, 'the cache keeps no video: the projection runs again');
  assert.match(third.stderr, /wrote the projection video .*projection\.gif: 10 frames of 64×32/);
  assert.deepEqual(await sharp(join(dir, 'third.png')).raw().toBuffer(), data, 'the same projection again');
  const { codec, width, height, frames } = await probe(video);
  assert.deepEqual({ codec, width, height, frames }, { codec: 'gif', width: 64, height: 32, frames: 10 });
});
