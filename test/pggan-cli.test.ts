/** The Progressive GAN through the CLI: golden parity of `generate`, its --scale and --alpha, and `info`. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readNpy } from '../src/io/npy.js';
import type { Tensor } from '../src/core/tensor.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';
import { runCli, runCliOk } from './helpers/cli.js';

const SET = 'pgan-tiny-a';
const PGAN = `${GOLDENS}${SET}/`;
const FORWARD = 1e-4;

const ok = runCliOk;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-pggan-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('ganvec generate on a pytorch_GAN_zoo PGAN', { concurrency: true }, () => {
  const npy = async (name: string, args: string[]): Promise<Tensor> => {
    const out = join(dir, `${name}.npy`);
    await ok(['generate', '--model', `${PGAN}checkpoint.pth`, ...args, '--npy', out]);
    return (await readNpy(out)) as Tensor;
  };

  test('avgG at the checkpoint fade-in', async () => {
    assertClose(await npy('img', ['--z', `${PGAN}z.npy`]), await golden(SET, 'img.npy'), FORWARD, 'img');
  });
  test('with a domain vector, given as z through --w (W is z)', async () => {
    assertClose(await npy('img-domain', ['--w', `${PGAN}z.npy`, '--domain', `${PGAN}domain.npy`]), await golden(SET, 'img_domain.npy'), FORWARD, 'img_domain');
  });
  test('--scale and --alpha', async () => {
    const scale2 = await npy('scale2', ['--z', `${PGAN}z.npy`, '--scale', '2']);
    assert.deepEqual(scale2.shape, [3, 3, 16, 16]);
    const grown = await npy('alpha0', ['--z', `${PGAN}z.npy`, '--alpha', '0']);
    // The golden α 0.4 is 0.4 · (scale 2 upsampled) + 0.6 · (the grown last scale).
    const blend = grown.data.map((x, i) => {
      const [c, y, xx] = [Math.floor(i / 1024), Math.floor((i % 1024) / 32), i % 32];
      return 0.4 * scale2.data[c * 256 + (y >> 1) * 16 + (xx >> 1)]! + 0.6 * x;
    });
    assertClose(blend, await golden(SET, 'img.npy'), FORWARD, 'blend');
  });
  test('refuses truncation and a scale it does not have, in one line', async () => {
    for (const [args, message] of [
      [['--truncation', '0.7'], /truncation 0\.7 does not apply to this Progressive GAN generator/],
      [['--scale', '9'], /--scale 9: this generator's scales are 0 … 3/],
      [['--alpha', 'x'], /--alpha x: the fade-in is a number in \[0, 1\]/],
    ] as const) {
      const r = await runCli(['generate', '--model', `${PGAN}checkpoint.pth`, '--seeds', '0', '--npy', join(dir, 'no.npy'), ...args]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
  });
});

describe('ganvec info on a pytorch_GAN_zoo PGAN', { concurrency: true }, () => {
  test('names the family, its scales, the fade-in and the domain vector', async () => {
    const { stdout } = await ok(['info', `${PGAN}checkpoint.pth`]);
    assert.match(stdout, /^kind\s+Progressive GAN generator \(pytorch-gan-zoo\)$/m);
    assert.match(stdout, /^scales\s+0: 4x4 32ch, 1: 8x8 32ch, 2: 16x16 24ch, 3: 32x32 16ch$/m);
    assert.match(stdout, /^alpha\s+0\.4 \(fading in from the previous scale\)$/m);
    assert.match(stdout, /^network\s+avgG/m);
    assert.match(stdout, /^domain vector\s+192 values \(groupScale0\.0 32, scaleLayers\.0\.0 32, scaleLayers\.0\.1 32, scaleLayers\.1\.0 32, scaleLayers\.1\.1 24, scaleLayers\.2\.0 24, scaleLayers\.2\.1 16\)$/m);
    assert.match(stdout, /^w_avg\s+none: no truncation/m);
  });
  test('as JSON', async () => {
    const info = JSON.parse((await ok(['info', `${PGAN}checkpoint.pth`, '--json'])).stdout) as Record<string, unknown>;
    assert.equal(info.kind, 'generator');
    assert.equal(info.format, 'pytorch-gan-zoo');
    assert.equal(info.resolution, 32);
    assert.equal(info.alpha, 0.4);
    assert.equal(info.domainSize, 192);
    assert.deepEqual(info.scales, [
      { resolution: 4, channels: 32 },
      { resolution: 8, channels: 32 },
      { resolution: 16, channels: 24 },
      { resolution: 32, channels: 16 },
    ]);
  });
});
