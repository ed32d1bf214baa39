/** StyleGAN3 through the CLI as a user runs it: golden parity of `generate --npy`, --translate/--rotate, `info`. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readNpy } from '../src/io/npy.js';
import type { Tensor } from '../src/core/tensor.js';
import { assertClose, golden, GOLDENS, relativeError } from './helpers/golden.js';
import { runCli, runCliOk } from './helpers/cli.js';

const FORWARD = 1e-4;
const SETS = ['sg3t-tiny-a', 'sg3r-tiny-a'] as const;

const ok = runCliOk;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-sg3-'));
});
after(() => rm(dir, { recursive: true, force: true }));

for (const set of SETS) {
  const S = `${GOLDENS}${set}/`;
  const pkl = `${S}network-snapshot.pkl`;
  describe(`${set} through generate --npy`, { concurrency: true }, () => {
    const parity = (name: string, args: string[], expected: string) =>
      test(name, async () => {
        const out = join(dir, `${set}-${name.replace(/\W+/g, '-')}.npy`);
        await ok(['generate', '--model', pkl, ...args, '--npy', out]);
        assertClose((await readNpy(out)) as Tensor, await golden(set, expected), FORWARD, expected);
      });
    parity('z at ψ 1', ['--z', `${S}z.npy`], 'img.npy');
    parity('z at ψ 0.7', ['--z', `${S}z.npy`, '--truncation', '0.7'], 'img_t07.npy');
    parity('W+ of mixed styles', ['--w', `${S}ws_mix4.npy`], 'img_mix4.npy');
    parity('W+ with a domain vector', ['--w', `${S}ws.npy`, '--domain', `${S}domain.npy`], 'img_domain.npy');
    parity('z at ψ 0.7 with a domain vector', ['--z', `${S}z.npy`, '--truncation', '0.7', '--domain', `${S}domain.npy`, '--batch', '2'], 'img_domain_t07.npy');
    parity('translated and rotated', ['--w', `${S}ws.npy`, '--translate', '0.15,-0.1', '--rotate', '12'], 'img_transform.npy');
  });
}

test('the transform golden differs from the untransformed image (the parity above tests the transform)', async () => {
  for (const set of SETS) assert.ok(relativeError((await golden(set, 'img_transform.npy')).data, (await golden(set, 'img.npy')).data) > 0.05);
});

test('info names the config and the domain-vector length', async () => {
  for (const [set, config, title] of [['sg3t-tiny-a', 'stylegan3-t', 'StyleGAN3-T'], ['sg3r-tiny-a', 'stylegan3-r', 'StyleGAN3-R']] as const) {
    const pkl = `${GOLDENS}${set}/network-snapshot.pkl`;
    const json = JSON.parse((await ok(['info', pkl, '--json'])).stdout) as Record<string, unknown>;
    assert.equal(json.config, config);
    assert.equal(json.nLatent, 8);
    assert.equal(json.domainSize, 64 + 64 + 64 + 45 + 27 + 16);
    assert.deepEqual((json.domainLayers as Array<{ name: string }>).map((l) => l.name), ['L0_36_64', 'L1_36_64', 'L2_52_45', 'L3_52_27', 'L4_52_16', 'L5_32_16']);
    const text = (await ok(['info', pkl])).stdout;
    assert.match(text, new RegExp(`${title} generator \\(nvidia-pkl\\)`));
    assert.match(text, /config\s+stylegan3-[tr]/);
    assert.match(text, /domain vector\s+280 values \(L0_36_64 64, /);
  }
});

test('a bad --translate or --rotate is a one-line error naming the flag', async () => {
  const pkl = `${GOLDENS}sg3t-tiny-a/network-snapshot.pkl`;
  for (const [flag, value, expected] of [['--translate', '0.1', /--translate takes X,Y/], ['--rotate', 'ten', /--rotate takes an angle in degrees, got "ten"/]] as const) {
    const r = await runCli(['generate', '--model', pkl, flag, value, '--npy', join(dir, 'x.npy')]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, expected);
  }
});
