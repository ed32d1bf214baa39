/** `ganvec embed`, run as a user runs it, on the clip-tiny-a golden set. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Tensor } from '../src/core/tensor.js';
import { readImageSet } from '../src/io/image-folder.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { readNpz } from '../src/io/npz.js';
import { loadClip } from '../src/registry/load.js';
import { loadPhotos } from '../src/clip/preprocess.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';
import { Rng } from './helpers/random.js';
import { REPO, runCli, type CliResult } from './helpers/cli.js';

const SET = 'clip-tiny-a';
const CLIP = `${GOLDENS}${SET}/clip_state_dict.pt`;

const ganvecEmbed = (args: string[]) => runCli(['embed', ...args]);

async function features(path: string): Promise<Tensor> {
  const t = await readNpy(path);
  assert.ok(t.data instanceof Float32Array);
  return t as Tensor;
}

function assertOneLineFailure(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, pattern);
}

describe('ganvec embed', { concurrency: true }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ganvec-embed-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--npy-image --raw reproduces openai/CLIP image features', async () => {
    const out = join(dir, 'image.npy');
    const r = await ganvecEmbed(['--clip', CLIP, '--npy-image', `${GOLDENS}${SET}/image_input.npy`, '--raw', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assertClose(await features(out), await golden(SET, 'image_features.npy'), 1e-4, 'image_features');
  });

  it('--text reproduces openai/CLIP text features', async () => {
    const { texts } = JSON.parse(await readFile(`${GOLDENS}${SET}/manifest.json`, 'utf8')) as { texts: string[] };
    const out = join(dir, 'text.npy');
    const r = await ganvecEmbed(['--clip', CLIP, '--text', ...texts, '--batch', '3', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assertClose(await features(out), await golden(SET, 'text_features.npy'), 1e-4, 'text_features');
  });

  it('several CLIP models, as every CLIP command takes them, write an .npz with one array per model', async () => {
    const { texts } = JSON.parse(await readFile(`${GOLDENS}${SET}/manifest.json`, 'utf8')) as { texts: string[] };
    const jit = `${GOLDENS}${SET}/clip_jit.pt`;
    const out = join(dir, 'two.npz');
    const r = await ganvecEmbed(['--clip', `${CLIP},${jit}`, '--text', ...texts, '--threads', '1', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const arrays = readNpz(out);
    assert.deepEqual([...arrays.keys()], ['clip_state_dict.pt', 'clip_jit.pt']);
    const expected = await golden(SET, 'text_features.npy');
    for (const [name, t] of arrays) assertClose(t as Tensor, expected, 1e-4, name);
    const npy = await ganvecEmbed(['--clip', `${CLIP},${jit}`, '--text', 'a', '--out', join(dir, 'two.npy')]);
    assertOneLineFailure(npy, /^ganvec: --out: 2 CLIP models need an \.npz \(one array each\), got .*two\.npy$/m);
  });

  it('--npy-image preprocesses generator images; --normalize gives unit rows', async () => {
    const images: Tensor = { data: new Rng(3).rand([2, 3, 48, 40], -1, 1), shape: [2, 3, 48, 40] };
    const input = join(dir, 'generated.npy');
    await writeNpy(input, images);
    const out = join(dir, 'generated-feats.npy');
    const r = await ganvecEmbed(['--clip', CLIP, '--npy-image', input, '--normalize', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const clip = await loadClip(CLIP, { threads: 1 });
    const expected = await clip.encodeGeneratorImage(images);
    await clip.release();
    const got = await features(out);
    for (let i = 0; i < 2; i++) {
      const row = expected.data.subarray(i * 32, (i + 1) * 32);
      const norm = Math.hypot(...row);
      row.forEach((v, j) => (row[j] = v / norm));
      assert.ok(Math.abs(Math.hypot(...got.data.subarray(i * 32, (i + 1) * 32)) - 1) < 1e-5);
    }
    assertClose(got, expected, 1e-5, 'normalised generator-image features');
  });

  it('--image encodes photo files', async () => {
    const photo = join(dir, 'photo.png');
    await sharp({ create: { width: 50, height: 40, channels: 3, background: { r: 200, g: 90, b: 30 } } }).png().toFile(photo);
    const out = join(dir, 'photo-feats.npy');
    const r = await ganvecEmbed(['--clip', CLIP, '--image', photo, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const clip = await loadClip(CLIP, { threads: 1 });
    const expected = await clip.encodeImage(await loadPhotos([photo], clip.resolution));
    await clip.release();
    assertClose(await features(out), expected, 1e-6, 'photo features');
  });

  it('--image refuses what adapt --images skips, in one line naming the file', async () => {
    const good = join(dir, 'good.png');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#203040' } }).png().toFile(good);
    const noise = { type: 'gaussian' as const, mean: 128, sigma: 40 };
    const tall = await sharp({ create: { width: 60, height: 400, channels: 3, background: '#808080', noise } }).jpeg().toBuffer();
    // Cut short in its bottom rows, which the centre crop of a tall photo never needs: only a full decode notices.
    const truncated = join(dir, 'truncated-tall.jpg');
    await writeFile(truncated, tall.subarray(0, Math.floor(tall.length * 0.9)));
    const text = join(dir, 'notes.jpg');
    await writeFile(text, 'not a jpeg at all');
    const empty = join(dir, 'empty.png');
    await writeFile(empty, '');
    const folder = join(dir, 'a-folder');
    await mkdir(folder);
    const cases: Array<[string, RegExp]> = [
      [truncated, /not a usable image \(the JPEG data is damaged or cut short\)$/m],
      [text, /not a usable image \(not a JPEG, PNG or WebP image\)$/m],
      [empty, /not a usable image \(the file is empty\)$/m],
      [folder, /a folder, not an image file/],
    ];
    const out = join(dir, 'never-images.npy');
    const results = await Promise.all(cases.map(([file]) => ganvecEmbed(['--clip', CLIP, '--image', good, file, '--out', out])));
    results.forEach((r, i) => {
      const [file, reason] = cases[i]!;
      assertOneLineFailure(r, reason);
      assert.ok(r.stderr.startsWith(`ganvec: --image ${file}: `), r.stderr);
    });
    const set = await readImageSet([good, truncated]);
    assert.deepEqual(set.skipped.map((s) => s.name), ['truncated-tall.jpg'], 'adapt --images skips the same file');
    await assert.rejects(readFile(out), { code: 'ENOENT' });
  });

  it('fails in one line on a missing file, a non-CLIP checkpoint and bad usage', async () => {
    const out = join(dir, 'never.npy');
    const [missing, notClip, noInput, twoInputs, rawText, wrongRawSize, badBatch] = await Promise.all([
      ganvecEmbed(['--clip', join(dir, 'missing.pt'), '--text', 'a photo', '--out', out]),
      ganvecEmbed(['--clip', `${GOLDENS}sg2-tiny-a/ckpt.pt`, '--text', 'a photo', '--out', out]),
      ganvecEmbed(['--clip', CLIP, '--out', out]),
      ganvecEmbed(['--clip', CLIP, '--text', 'a', '--npy-image', `${GOLDENS}${SET}/image_input.npy`, '--out', out]),
      ganvecEmbed(['--clip', CLIP, '--text', 'a', '--raw', '--out', out]),
      ganvecEmbed(['--clip', CLIP, '--npy-image', join(REPO, 'test/fixtures/clip-resize/gen_in.npy'), '--raw', '--out', out]),
      ganvecEmbed(['--clip', CLIP, '--npy-image', `${GOLDENS}${SET}/image_input.npy`, '--raw', '--out', out, '--batch', '0']),
    ]);
    assertOneLineFailure(missing, /no such file: .*missing\.pt/);
    assertOneLineFailure(notClip, /ckpt\.pt: it holds no CLIP model/);
    assertOneLineFailure(noInput, /exactly one of --text, --image or --npy-image/);
    assertOneLineFailure(twoInputs, /exactly one of --text, --image or --npy-image/);
    assertOneLineFailure(rawText, /--raw only applies to --npy-image/);
    assertOneLineFailure(wrongRawSize, /--raw input must be \[N, 3, 32, 32\].*got \[1, 3, 24, 41\]/);
    assertOneLineFailure(badBatch, /^ganvec: --batch: must be at least 1, got 0$/m);
    await assert.rejects(readFile(out), { code: 'ENOENT' });
  });
});
