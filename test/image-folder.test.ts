/** Example-image folders as users have them: odd formats, sizes, stray files, corrupt images. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { imageSetDigest, ImageSetError, readImageSet } from '../src/io/image-folder.js';
import { CLIP_MEAN, CLIP_STD, loadPhotos } from '../src/clip/preprocess.js';

const solid = (width: number, height: number, background: string) =>
  sharp({ create: { width, height, channels: 3, background } });

describe('readImageSet', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ganvec-image-folder-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function folder(name: string, files: Record<string, Buffer | string>): Promise<string> {
    const path = join(dir, name);
    await mkdir(path);
    for (const [file, bytes] of Object.entries(files)) await writeFile(join(path, file), bytes);
    return path;
  }

  it('an empty folder is an error naming it', async () => {
    const path = await folder('empty', {});
    await assert.rejects(readImageSet([path]), (err: Error) => err instanceof ImageSetError && err.message.includes(path) && /no files/.test(err.message));
  });

  it('a folder of non-images is an error naming what was skipped and why', async () => {
    const path = await folder('not-images', { 'notes.txt': 'hello', 'fake.jpg': 'not a jpeg at all' });
    await assert.rejects(readImageSet([path]), (err: Error) =>
      err instanceof ImageSetError && err.message.includes(path) && err.message.includes('notes.txt') && err.message.includes('fake.jpg (not a JPEG, PNG or WebP image)') && !err.message.includes('\n'));
  });

  it('a corrupt JPEG among good images is skipped with its reason; the rest are used', async () => {
    const good = await solid(40, 30, '#c03020').jpeg().toBuffer();
    const truncated = good.subarray(0, Math.floor(good.length * 0.6));
    const path = await folder('one-corrupt', {
      'a.jpg': good,
      'b.jpg': truncated,
      'c.webp': await solid(20, 50, '#2040c0').webp().toBuffer(),
      'd.png': await solid(9, 9, '#20c040').png().toBuffer(),
      'no-extension': await solid(8, 8, '#ffffff').png().toBuffer(),
      '.DS_Store': 'finder junk',
    });
    await mkdir(join(path, 'subfolder'));
    const set = await readImageSet([path]);
    assert.deepEqual(set.images.map((im) => im.name), ['a.jpg', 'c.webp', 'd.png', 'no-extension']);
    assert.deepEqual(set.skipped.map((s) => s.name), ['b.jpg']);
    assert.equal(set.skipped[0]!.reason, 'the JPEG data is damaged or cut short');
    const pixels = await loadPhotos(set.images.map((im) => im.bytes), 16);
    assert.deepEqual(pixels.shape, [4, 3, 16, 16]);
    assert.ok(pixels.data.every(Number.isFinite));
  });

  it('a 1x1 image is upscaled to the CLIP resolution', async () => {
    const set = await readImageSet([await solid(1, 1, '#ff0000').png().toBuffer()]);
    const pixels = await loadPhotos(set.images.map((im) => im.bytes), 8);
    assert.deepEqual(pixels.shape, [1, 3, 8, 8]);
    const red = (1 - CLIP_MEAN[0]) / CLIP_STD[0];
    for (let p = 0; p < 64; p++) assert.ok(Math.abs(pixels.data[p]! - red) < 1e-5);
  });

  it('a 16-bit PNG is read at full scale, and grey and alpha become RGB', async () => {
    const png16 = await solid(4, 4, '#ffffff').toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(png16).metadata()).depth, 'ushort');
    const grey = await sharp({ create: { width: 6, height: 6, channels: 3, background: '#000000' } }).greyscale().png().toBuffer();
    const transparent = await sharp({ create: { width: 6, height: 6, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const set = await readImageSet([png16, grey, transparent]);
    assert.equal(set.images.length, 3);
    const pixels = await loadPhotos(set.images.map((im) => im.bytes), 4);
    const plane = 16;
    for (let ch = 0; ch < 3; ch++) {
      const white = (1 - CLIP_MEAN[ch]!) / CLIP_STD[ch]!;
      const black = (0 - CLIP_MEAN[ch]!) / CLIP_STD[ch]!;
      assert.ok(Math.abs(pixels.data[ch * plane]! - white) < 1e-5, '16-bit white is white, not a byte-swapped value');
      assert.ok(Math.abs(pixels.data[(3 + ch) * plane]! - black) < 1e-5, 'grey black is black in every channel');
      assert.ok(Math.abs(pixels.data[(6 + ch) * plane]! - white) < 1e-5, 'transparent is flattened onto white');
    }
  });

  it('a list of files works; the digest ignores names and order but not bytes', async () => {
    const a = await solid(10, 10, '#102030').png().toBuffer();
    const b = await solid(10, 10, '#302010').png().toBuffer();
    const path = await folder('list', { 'x.png': a, 'y.png': b });
    const set = await readImageSet([join(path, 'y.png'), join(path, 'x.png')]);
    assert.deepEqual(set.images.map((im) => im.name), ['y.png', 'x.png']);
    assert.equal(set.digest, (await readImageSet([path])).digest);
    assert.equal(set.digest, imageSetDigest([a, b]));
    assert.notEqual(set.digest, imageSetDigest([a, Buffer.concat([b, Buffer.from([0])])]));
    await assert.rejects(readImageSet([join(path, 'missing.png')]), /missing\.png: no such file or folder/);
  });
});
