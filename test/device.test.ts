/**
 * `--device cuda` where the CUDA provider is not installed (as on the machines that run these tests):
 * one warning that says how to install it, then the CPU, with results identical to `--device cpu`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { runCli } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';

it('--device cuda falls back to the CPU with one warning and the same images', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ganvec-device-'));
  const generate = (device: string, out: string) =>
    runCli(['generate', '--model', `${GOLDENS}sg2-tiny-a/ckpt.pt`, '--seeds', '0-1', '--device', device, '--npy', join(dir, out)]);
  const cuda = await generate('cuda', 'cuda.npy');
  assert.equal(cuda.code, 0, cuda.stderr);
  assert.equal(cuda.stderr.match(/^ganvec: warning: CUDA is not available/gm)?.length, 1, cuda.stderr);
  assert.doesNotMatch(cuda.stderr, /\(node:\d+\)|--trace-warnings/);
  assert.match(cuda.stderr, /ONNXRUNTIME_NODE_INSTALL_CUDA=v12/);
  const cpu = await generate('cpu', 'cpu.npy');
  assert.equal(cpu.code, 0, cpu.stderr);
  assert.doesNotMatch(cpu.stderr, /CUDA/);
  assert.deepEqual(await readFile(join(dir, 'cuda.npy')), await readFile(join(dir, 'cpu.npy')));
});

it('rejects an unknown device', async () => {
  const r = await runCli(['generate', '--model', `${GOLDENS}sg2-tiny-a/ckpt.pt`, '--device', 'tpu']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ganvec: --device: expected one of cpu, cuda, got "tpu"$/m);
});
