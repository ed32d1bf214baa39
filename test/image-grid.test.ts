/**
 * Grids of images: layouts that fill their cells, gutters, labels in the built-in font, and the labelled
 * before/after previews that `adapt --preview` writes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { gridColumns, writeImageGrid } from '../src/io/image-grid.js';
import { runCli } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-grid-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function pixels(path: string) {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, dark: (x: number, y: number) => data[(y * info.width + x) * info.channels]! < 128 };
}

describe('image grids', () => {
  it('columns leave no empty cell when the count allows, else as few as possible', () => {
    const layouts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 16].map((n) => `${n}:${gridColumns(n)}x${Math.ceil(n / gridColumns(n))}`);
    assert.deepEqual(layouts, ['1:1x1', '2:2x1', '3:3x1', '4:2x2', '5:5x1', '6:3x2', '7:4x2', '8:4x2', '9:3x3', '10:5x2', '12:4x3', '13:7x2', '16:4x4']);
  });

  it('refuses labels that do not match the images or rows', async () => {
    const images = { data: new Float32Array(2 * 3 * 4 * 4), shape: [2, 3, 4, 4] };
    await assert.rejects(writeImageGrid(join(dir, 'x.png'), images, { labels: ['0'] }), /2 images needs 2 labels, got 1/);
    await assert.rejects(writeImageGrid(join(dir, 'x.png'), images, { cols: 1, rowLabels: ['a'] }), /2 rows needs 2 row labels, got 1/);
  });

  it('draws a row label left of its row, in 5×7 glyphs', async () => {
    // Two white 16×16 images in a column; the labels "A" and "1" left of them.
    const images = { data: new Float32Array(2 * 3 * 16 * 16).fill(1), shape: [2, 3, 16, 16] };
    const path = join(dir, 'rows.png');
    await writeImageGrid(path, images, { cols: 1, rowLabels: ['A', '1'] });
    const grid = await pixels(path);
    // Gutter 2, label 5 wide, gutter 2: images start at x = 9; rows at y = 2 and 20; labels centred on them.
    assert.deepEqual([grid.width, grid.height], [9 + 16 + 2, 2 + 2 * (16 + 2)]);
    const glyph = (x0: number, y0: number) => Array.from({ length: 7 }, (_, y) => Array.from({ length: 5 }, (_, x) => (grid.dark(x0 + x, y0 + y) ? '1' : '0')).join(''));
    assert.deepEqual(glyph(2, 2 + 4), ['01110', '10001', '10001', '10001', '11111', '10001', '10001']);
    assert.deepEqual(glyph(2, 20 + 4), ['00100', '01100', '00100', '00100', '00100', '00100', '01110']);
  });
});

it('adapt --preview writes labelled before/after strips: rows "original" and "adapted", seeds under each image', async () => {
  const out = join(dir, 'd.dv.safetensors');
  const previews = join(dir, 'previews');
  const r = await runCli(['adapt', '--model', `${GOLDENS}sg2-tiny-a/ckpt.pt`, '--clip', `${GOLDENS}clip-tiny-a/clip_state_dict.pt`, '--to', 'pixar',
    '--iters', '1', '--preview', previews, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readdir(previews), ['step00001.png']);
  const grid = await pixels(join(previews, 'step00001.png'));
  // "original" is 8 glyphs: 47 pixels, between 2-pixel gutters; four 32-pixel cells, each with a 9-pixel label strip.
  const left = 2 + 47 + 2;
  assert.deepEqual([grid.width, grid.height], [left + 4 * (32 + 2), 2 + 2 * (32 + 9 + 2)]);
  const inkIn = (x0: number, y0: number, w: number, h: number) => {
    let n = 0;
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) n += grid.dark(x, y) ? 1 : 0;
    return n;
  };
  assert.ok(inkIn(2, 2, 47, 32) > 40, 'the first row is labelled');
  assert.ok(inkIn(2, 2 + 43, 47, 32) > 40, 'the second row is labelled');
  assert.notEqual(inkIn(2, 2, 47, 32), inkIn(2, 2 + 43, 47, 32), '"original" and "adapted" differ');
  // Under each cell, "SEED n": 6 glyphs = 35 pixels, wider than the 32-pixel cell, so cut at its edges.
  for (let col = 0; col < 4; col++) assert.ok(inkIn(left + col * 34, 2 + 32, 32, 9) > 30, `cell ${col} is labelled`);
});
