/**
 * `ganvec import`: HyperDomainNet (cin_mult) and StyleDomain (s_delta) checkpoints saved by their own
 * trainers' code (test/fixtures/import/make_fixture.py) become domain files whose images match the images
 * their own generator code made from the same checkpoints.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Tensor } from '../src/core/tensor.js';
import { readDomainFile } from '../src/domains/domain-file.js';
import { readNpy } from '../src/io/npy.js';
import { assertClose, GOLDENS } from './helpers/golden.js';
import { runCli, runCliOk } from './helpers/cli.js';

const FIXTURES = new URL('fixtures/import/', import.meta.url).pathname;
const SG2 = `${GOLDENS}sg2-tiny-a/`;
/** As the goldens: images to about 1e-4 relative. */
const FORWARD = 1e-4;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-import-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const ok = async (args: string[]): Promise<string> => (await runCliOk(args)).stdout;

async function failsWith(args: string[], expected: RegExp): Promise<void> {
  const r = await runCli(args);
  assert.equal(r.code, 1, `expected exit code 1; stderr:\n${r.stderr}`);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `expected a one-line error, got:\n${r.stderr}`);
  assert.match(r.stderr, expected);
}

describe('ganvec import', { concurrency: true }, () => {
  for (const { tool, name, patchKey, parameterisation } of [
    { tool: 'hyperdomainnet', name: 'HyperDomainNet', patchKey: 'cin_mult', parameterisation: 'domain-vector' },
    { tool: 'styledomain', name: 'StyleDomain', patchKey: 's_delta', parameterisation: 'style-offsets' },
  ]) {
    test(`${name} ${patchKey}: generate with the imported file reproduces their own images, with provenance`, async () => {
      const checkpoint = `${FIXTURES}${tool}.pt`;
      const out = join(dir, `${tool}.dv.safetensors`);
      const said = await ok(['import', checkpoint, '--model', `${SG2}ckpt.pt`, '--out', out]);
      assert.match(said, new RegExp(`${name} ${patchKey}, 7 layers, 192 values \\(${parameterisation}\\)`));

      const file = await readDomainFile(out);
      assert.equal(file.metadata.parameterisation, parameterisation);
      const from = JSON.parse(file.metadata.imported_from!) as Record<string, unknown>;
      assert.equal(from.tool, name);
      assert.equal(from.patch_key, patchKey);
      assert.equal(from.file, `${tool}.pt`);
      assert.equal(from.sha256, createHash('sha256').update(await readFile(checkpoint)).digest('hex'));
      assert.equal((from.sg2_params as { img_size: number }).img_size, 32);
      assert.deepEqual((from.heads as string[]).slice(0, 2), ['heads.conv_0.params_in → conv1', 'heads.conv_1.params_in → convs.0']);

      const images = join(dir, `${tool}.npy`);
      await ok(['generate', '--model', `${SG2}ckpt.pt`, '--w', `${SG2}w.npy`, '--domain', out, '--npy', images]);
      assertClose((await readNpy(images)) as Tensor, (await readNpy(`${FIXTURES}${tool}_img.npy`)) as Tensor, FORWARD, `${tool}_img`);
    });
  }

  test('a checkpoint that is not a domain checkpoint, or heads that do not fit the generator, are refused naming the file', async () => {
    await failsWith(['import', `${SG2}ckpt.pt`, '--model', `${SG2}ckpt.pt`, '--out', join(dir, 'x.dv.safetensors')],
      /ckpt\.pt: not a HyperDomainNet or StyleDomain domain checkpoint: it has no "model_type"/);
    // The NVIDIA tiny generator's last conv has 12 input channels, not 16.
    await failsWith(['import', `${FIXTURES}hyperdomainnet.pt`, '--model', `${GOLDENS}sg2ada-tiny-a/network-snapshot.pkl`, '--out', join(dir, 'x.dv.safetensors')],
      /hyperdomainnet\.pt: its 7 heads have 32,32,32,32,24,24,16 channels; this generator's 7 domain-vector layers have 32,32,32,32,24,24,12/);
  });
});
