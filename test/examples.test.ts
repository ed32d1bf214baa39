/** The example script runs as documented (on the tiny fixtures instead of the downloaded models). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import sharp from 'sharp';
import { readDomainFile } from '../src/domains/domain-file.js';
import { REPO } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';

it('examples/adapt-and-generate.ts adapts and writes grids and a domain file', async () => {
  const out = await mkdtemp(join(tmpdir(), 'ganvec-example-'));
  const args = ['--import', 'tsx', 'examples/adapt-and-generate.ts', '--model', `${GOLDENS}sg2-tiny-a/ckpt.pt`,
    '--clip', `${GOLDENS}clip-tiny-a/clip_state_dict.pt`, '--to', 'pixar', '--iters', '5', '--outdir', out];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GANVEC_OFFLINE: '1' } });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (c) => (c === 0 ? resolve(c) : reject(new Error(stderr))));
  });
  assert.equal(code, 0);
  for (const name of ['before.png', 'after.png']) {
    const meta = await sharp(join(out, name)).metadata();
    assert.equal(meta.width, 2 + 4 * (32 + 2), "4 columns of 32 pixels with 2-pixel gutters");
  }
  const domain = await readDomainFile(join(out, 'domain.dv.safetensors'));
  assert.equal(domain.metadata.iterations, '5');
});
