/**
 * FFHQ alignment: pixel parity with NVIDIA's recreate_aligned_images on a synthetic photo (fixture made by
 * test/fixtures/ffhq-align/make_fixture.py with the reference's own function), and `ganvec align` on a real
 * photo: one face, and on the aligned image the re-detected eyes and mouth sit where the FFHQ crop puts them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { detectFaces } from '../src/faces/face-detector.js';
import { alignFace, faceFeatures, ffhqQuad } from '../src/faces/ffhq-align.js';
import { readRgb } from '../src/faces/align-photo.js';
import { astronautPhoto } from './helpers/astronaut.js';
import { runCli } from './helpers/cli.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/ffhq-align/', import.meta.url));
const SIZE = 256;
/** Re-detected landmarks vs the crop's geometry, in pixels at SIZE (the landmark net's own jitter is ~1–2 px). */
const TOLERANCE_PX = 4;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-align-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('alignment parity with ffhq-dataset', () => {
  test('shrink, crop, blurred padding, QUAD transform and Lanczos resize give the reference\'s pixels exactly', async () => {
    const photo = await readRgb(join(FIXTURE, 'photo.png'));
    const cases = JSON.parse(await readFile(join(FIXTURE, 'cases.json'), 'utf8')) as Record<string, { lm: number[][]; output_size: number; transform_size: number }>;
    for (const [name, c] of Object.entries(cases)) {
      const aligned = alignFace(photo, c.lm.flat(), { outputSize: c.output_size, transformSize: c.transform_size });
      const expected = await readRgb(join(FIXTURE, `aligned_${name}.png`));
      assert.equal(aligned.width, expected.width);
      let worst = 0;
      for (let i = 0; i < expected.data.length; i++) worst = Math.max(worst, Math.abs(aligned.data[i]! - expected.data[i]!));
      assert.equal(worst, 0, `${name}: largest difference ${worst} levels`);
    }
  });
});

type Point = [number, number];

describe('ganvec align on a real photo (scikit-image astronaut.png)', () => {
  test('one face; re-detected eyes and mouth land where the FFHQ crop maps them', async () => {
    const photoPath = astronautPhoto();
    const out = join(dir, 'aligned.png');
    const r = await runCli(['align', photoPath, '--out', out, '--size', String(SIZE)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 1, r.stdout);
    const photo = await readRgb(photoPath);
    const found = await detectFaces(photo);
    assert.equal(found.length, 1, 'faces in astronaut.png');

    // Where the crop sends the photo's eyes and mouth: the quad's frame, scaled to SIZE.
    const { quad } = ffhqQuad(found[0]!.landmarks);
    const [nwx, nwy, swx, swy, , , nex, ney] = quad as [number, number, number, number, number, number, number, number];
    const ux: Point = [nex - nwx, ney - nwy];
    const uy: Point = [swx - nwx, swy - nwy];
    const side2 = ux[0] * ux[0] + ux[1] * ux[1];
    const toAligned = ([x, y]: Point): Point => [
      (((x - nwx) * ux[0] + (y - nwy) * ux[1]) / side2) * SIZE,
      (((x - nwx) * uy[0] + (y - nwy) * uy[1]) / side2) * SIZE,
    ];
    const before = faceFeatures(found[0]!.landmarks);

    const aligned = await readRgb(out);
    assert.equal(aligned.width, SIZE);
    const again = await detectFaces(aligned);
    assert.equal(again.length, 1, 'faces in the aligned image');
    const after = faceFeatures(again[0]!.landmarks);
    for (const key of ['eyeLeft', 'eyeRight', 'mouth'] as const) {
      const expected = toAligned(before[key]);
      const d = Math.hypot(after[key][0] - expected[0], after[key][1] - expected[1]);
      assert.ok(d <= TOLERANCE_PX, `${key}: at ${after[key].map((v) => v.toFixed(1))}, the crop puts it at ${expected.map((v) => v.toFixed(1))} (${d.toFixed(1)} px > ${TOLERANCE_PX})`);
    }
    // The FFHQ template itself: eye line level, eyes + ⅒ of eye-to-mouth at the centre, and
    // max(2·eye distance, 1.8·eye-to-mouth) = half the side.
    const eyeAvg: Point = [(after.eyeLeft[0] + after.eyeRight[0]) / 2, (after.eyeLeft[1] + after.eyeRight[1]) / 2];
    const e2m: Point = [after.mouth[0] - eyeAvg[0], after.mouth[1] - eyeAvg[1]];
    const centre: Point = [eyeAvg[0] + 0.1 * e2m[0], eyeAvg[1] + 0.1 * e2m[1]];
    assert.ok(Math.hypot(centre[0] - SIZE / 2, centre[1] - SIZE / 2) <= TOLERANCE_PX, `crop centre at ${centre.map((v) => v.toFixed(1))}`);
    const half = Math.max(2 * Math.hypot(after.eyeRight[0] - after.eyeLeft[0], after.eyeRight[1] - after.eyeLeft[1]), 1.8 * Math.hypot(...e2m));
    assert.ok(Math.abs(half - SIZE / 2) <= TOLERANCE_PX, `half side ${half.toFixed(1)} px, FFHQ's ${SIZE / 2}`);
    assert.ok(Math.abs(after.eyeRight[1] - after.eyeLeft[1]) <= TOLERANCE_PX, `eyes level: ${after.eyeLeft[1].toFixed(1)} vs ${after.eyeRight[1].toFixed(1)}`);
  });

  test('--all: two faces (the photo twice, the right copy larger), largest first', async () => {
    const photo = astronautPhoto();
    const twice = join(dir, 'twice.png');
    const small = await sharp(photo).resize(256, 256).png().toBuffer();
    await sharp({ create: { width: 768, height: 512, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .composite([{ input: small, left: 0, top: 128 }, { input: photo, left: 256, top: 0 }])
      .png()
      .toFile(twice);
    const r = await runCli(['align', twice, '--out', join(dir, 'face.png'), '--size', '64', '--all']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    assert.match(lines[0]!, /face-0\.png \(64×64\): face at (\d+),/);
    assert.match(lines[1]!, /face-1\.png \(64×64\): face at (\d+),/);
    assert.ok(Number(/face at (\d+)/.exec(lines[0]!)![1]) > 256, 'the larger face (right copy) comes first');
  });

  test('a photo without a face is a one-line error', async () => {
    const r = await runCli(['align', join(FIXTURE, 'photo.png'), '--out', join(dir, 'none.png'), '--size', '32']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /photo\.png: no face found/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  });
});
