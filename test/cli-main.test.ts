/** The top-level `ganvec` command: the main job first, examples and environment; output cut short by a pipe. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO, runCli } from './helpers/cli.js';

it('--help lists adapt, generate and eval first, with examples and the environment variables', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  const commands = [...r.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);
  assert.deepEqual(commands.slice(0, 3), ['adapt', 'generate', 'eval']);
  assert.match(r.stdout, /^Examples:\n {2}ganvec adapt --from ffhq --to "pixar"/m);
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
