/**
 * The top-level `ganvec` command: the main job first, examples and environment; output cut short by a pipe;
 * other tools' spellings of the shared flags.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO, runCli } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';

it('--help lists adapt, generate and eval first, with examples and the environment variables', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  const commands = [...r.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);
  assert.deepEqual(commands.slice(0, 3), ['adapt', 'generate', 'eval']);
  assert.match(r.stdout, /^Examples:\n {2}ganvec adapt --model ffhq --to "pixar"/m);
  for (const name of ['GANVEC_HOME', 'GANVEC_OFFLINE', 'GANVEC_REGISTRY', 'GANVEC_DEBUG']) assert.match(r.stdout, new RegExp(`^ {2}${name} `, 'm'));
});

it('models list shows each licence', async () => {
  const r = await runCli(['models', 'list']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^NAME +KIND +RES +SIZE +CACHED +LICENCE +ALIASES$/m);
  assert.match(r.stdout, /MIT +ViT-B\/32/);
});

it('stops quietly when the reader of its output goes away (ganvec models list | head -1)', async () => {
  const child = spawn(process.execPath, [join(REPO, 'dist/cli/main.js'), 'models', 'list'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

it("takes NVIDIA's spellings (--network, --trunc, --noise-mode) and adapt's --from as the same flags", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ganvec-aliases-'));
  try {
    const ckpt = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
    const [ours, nvidia] = await Promise.all([
      runCli(['generate', '--model', ckpt, '--seeds', '0-1', '--truncation', '0.7', '--noise', 'none', '--npy', join(dir, 'a.npy')]),
      runCli(['generate', '--network', ckpt, '--seeds', '0-1', '--trunc=0.7', '--noise-mode', 'none', '--npy', join(dir, 'b.npy')]),
    ]);
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(nvidia.code, 0, nvidia.stderr);
    assert.deepEqual(await readFile(join(dir, 'b.npy')), await readFile(join(dir, 'a.npy')));
    const clip = `${GOLDENS}clip-tiny-a/clip_state_dict.pt`;
    const adapt = await runCli(['adapt', '--model', ckpt, '--clip', clip, '--to', 'pixar', '--iters', '1', '--out', join(dir, 'd.dv.safetensors'), '--json']);
    assert.equal(adapt.code, 0, adapt.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
