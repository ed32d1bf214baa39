/**
 * `ganvec video` and the walks behind it: the files are decoded (ffprobe for MP4 and GIF, the RIFF
 * chunks for animated WebP) and their frame counts and sizes checked; the latent walk passes through its
 * keyframes' W+ exactly where gen_video.py puts them, and the domain walk runs from its start to its end.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { domainWalk, latentWalk, loadGenerator, toWPlus, truncate, zFromSeeds, type Generator } from '../src/index.js';
import { golden, GOLDENS, relativeError } from './helpers/golden.js';
import { runCli, runCliOk } from './helpers/cli.js';
import { probe } from './helpers/decode-video.js';

const SG3T = `${GOLDENS}sg3t-tiny-a/network-snapshot.pkl`;
const SG3R = `${GOLDENS}sg3r-tiny-a/network-snapshot.pkl`;
const SG2 = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const PGAN = `${GOLDENS}pgan-tiny-a/checkpoint.pth`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-video-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const ok = runCliOk;

/** The probe without the frame rate, which these tests do not set. */
async function probeFrames(path: string): Promise<{ codec: string; width: number; height: number; frames: number }> {
  const { fps: _, ...rest } = await probe(path);
  return rest;
}

async function failsWith(args: string[], expected: RegExp, env?: Record<string, string>): Promise<void> {
  const r = await runCli(args, { env });
  assert.equal(r.code, 1, `expected exit code 1; stderr:\n${r.stderr}`);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `expected a one-line error, got:\n${r.stderr}`);
  assert.match(r.stderr, expected);
}

/** An animated WebP's canvas (VP8X) and its frames (ANMF chunks), read from the RIFF container. */
async function webpFrames(path: string): Promise<{ width: number; height: number; frames: number; loops: number }> {
  const b = await readFile(path);
  assert.equal(b.toString('latin1', 0, 4), 'RIFF');
  assert.equal(b.toString('latin1', 8, 12), 'WEBP');
  let width = 0, height = 0, frames = 0, loops = -1;
  for (let at = 12; at + 8 <= b.length;) {
    const id = b.toString('latin1', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    if (id === 'VP8X') (width = b.readUIntLE(at + 12, 3) + 1), (height = b.readUIntLE(at + 15, 3) + 1);
    if (id === 'ANIM') loops = b.readUInt16LE(at + 12);
    if (id === 'ANMF') frames++;
    at += 8 + size + (size % 2);
  }
  return { width, height, frames, loops };
}

describe('ganvec video', { concurrency: true }, () => {
  test('StyleGAN3-T latent walk as MP4: seeds / cells keyframes × --w-frames frames of the grid', async () => {
    const out = join(dir, 'walk.mp4');
    const r = await ok(['video', '--model', SG3T, '--seeds', '0-3', '--grid', '2x1', '--w-frames', '3', '--out', out]);
    assert.match(r.stdout, /wrote .*walk\.mp4: 6 frames of 64×32 at 60 fps/);
    assert.match(r.stderr, /video: frame 6\/6/);
    assert.deepEqual(await probeFrames(out), { codec: 'h264', width: 64, height: 32, frames: 6 });
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [], 'no temporary file is left');
  });

  test('StyleGAN2 works too: a looping GIF with --num-keyframes', async () => {
    const out = join(dir, 'walk.gif');
    await ok(['video', '--model', SG2, '--seeds', '3', '--num-keyframes', '2', '--w-frames', '2', '--trunc', '0.7', '--fps', '10', '--out', out]);
    assert.deepEqual(await probeFrames(out), { codec: 'gif', width: 32, height: 32, frames: 4 });
  });

  test('the Progressive GAN too: a walk into a domain as a GIF (no truncation: W is z)', async () => {
    const out = join(dir, 'pgan.gif');
    await ok(['video', '--model', PGAN, '--walk', 'domain', '--domain', `${GOLDENS}pgan-tiny-a/domain.npy`, '--seeds', '1', '--frames', '3', '--fps', '10', '--out', out]);
    assert.deepEqual(await probeFrames(out), { codec: 'gif', width: 32, height: 32, frames: 3 });
  });

  test('StyleGAN3-R domain walk as animated WebP: --frames frames, looping', async () => {
    const out = join(dir, 'into-domain.webp');
    await ok(['video', '--model', SG3R, '--walk', 'domain', '--domain', `${GOLDENS}sg3r-tiny-a/domain.npy`, '--seeds', '5,6', '--grid', '1x2', '--frames', '5', '--out', out]);
    assert.deepEqual(await webpFrames(out), { width: 32, height: 64, frames: 5, loops: 0 });
  });

  test('mistakes are one-line errors: no ffmpeg, an unknown extension, seeds that do not fill the grid, a domain walk without a domain', async () => {
    const out = join(dir, 'x.mp4');
    await failsWith(['video', '--model', SG3T, '--out', out], /writing a video needs ffmpeg, which is not on the PATH: install it \(Debian\/Ubuntu: apt-get install ffmpeg\)/, { PATH: '/nonexistent' });
    await failsWith(['video', '--model', SG3T, '--out', out], /GANVEC_FFMPEG \/nonexistent\/ffmpeg is not an executable file/, { GANVEC_FFMPEG: '/nonexistent/ffmpeg' });
    await failsWith(['video', '--model', SG3T, '--out', join(dir, 'x.avi')], /--out .*x\.avi: the format comes from the extension, one of \.mp4, \.gif, \.webp/);
    await failsWith(['video', '--model', SG3T, '--seeds', '0-2', '--grid', '2x1', '--out', out], /3 seeds do not divide into 2 grid cells/);
    await failsWith(['video', '--model', SG3T, '--walk', 'domain', '--out', out], /--walk domain needs one --domain/);
    await failsWith(['video', '--model', SG3T, '--grid', '2by2', '--out', out], /expected columns x rows such as 2x2, got "2by2"/);
  });
});

describe('the walks', () => {
  let G: Generator;
  before(async () => {
    G = await loadGenerator(SG3T, { batch: 2 });
  });
  after(() => G.release());

  test('a latent walk is at keyframe k at frame k·w_frames (gen_video.py: cell i takes seeds i·K … i·K + K − 1) and moves in between', async () => {
    const seeds = [10, 11, 12, 13, 14, 15];
    const plan = await latentWalk(G, { seeds, cols: 2, rows: 1, wFrames: 4, truncation: 0.7 });
    assert.equal(plan.frames, 12);
    const keys = truncate(toWPlus(await G.mapping(zFromSeeds(seeds, G.styleDim)), G.nLatent), await G.wAvg(), 0.7);
    const row = G.nLatent * G.styleDim;
    for (let k = 0; k < 3; k++) {
      const { ws } = plan.frame(k * 4);
      assert.deepEqual(ws.shape, [2, G.nLatent, G.styleDim]);
      for (let cell = 0; cell < 2; cell++) {
        const expected = keys.data.subarray((cell * 3 + k) * row, (cell * 3 + k + 1) * row);
        assert.ok(relativeError(ws.data.subarray(cell * row, (cell + 1) * row), expected) < 1e-6, `cell ${cell} keyframe ${k}`);
      }
    }
    const between = plan.frame(2).ws.data.subarray(0, row);
    assert.ok(relativeError(between, keys.data.subarray(0, row)) > 1e-3, 'frames between keyframes are not the keyframes');
  });

  test('a domain walk runs from the original (or the first domain) to the domain', async () => {
    const d = (await golden('sg3t-tiny-a', 'domain.npy')).data;
    const plan = await domainWalk(G, { seeds: [1], frames: 3, to: d });
    assert.deepEqual(Array.from(plan.frame(0).domain!), new Array(d.length).fill(0));
    assert.deepEqual(plan.frame(1).domain, d.map((x) => 0.5 * x));
    assert.deepEqual(plan.frame(2).domain, d);
    const back = await domainWalk(G, { seeds: [1], frames: 2, from: d, to: new Float32Array(d.length) });
    assert.deepEqual(back.frame(0).domain, d);
    assert.deepEqual(Array.from(back.frame(1).domain!), new Array(d.length).fill(0));
  });
});
