/**
 * `ganvec adapt --from ffhq` with an empty cache and no network fails and says exactly which file is
 * missing and how to get it. Runs the built CLI (as users do), against local stand-ins for the hosts:
 * one that refuses connections and one that accepts but never answers, plus GANVEC_OFFLINE=1. (How long
 * that takes is a matter for bench/, not for a test on a shared machine.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closedPort, startServer, type TestServer } from './fixtures/download/server.js';
import { REPO } from './helpers/cli.js';

function runBuiltCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'dist/cli/main.js'), ...args], {
      cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The bundled registry with every URL moved to `base` (same names, sizes and hashes). */
async function registryPointingAt(base: string, dir: string): Promise<string> {
  const bundled = JSON.parse(await readFile(join(REPO, 'pretrained/registry.json'), 'utf8')) as {
    models: Array<{ url: string; mirrors: string[] }>;
  };
  for (const e of bundled.models) {
    e.url = `${base}${new URL(e.url).pathname}`;
    e.mirrors = [];
  }
  const file = join(dir, 'registry.json');
  await writeFile(file, JSON.stringify(bundled));
  return file;
}

describe('ganvec adapt --from ffhq without network', () => {
  let dir: string;
  let silent: TestServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ganvec-nonet-'));
    silent = await startServer(() => undefined);
  });
  after(() => silent.close());

  const expectClearFailure = (r: { code: number | null; stderr: string }) => {
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /stylegan2-ffhq-config-f\.pt/, 'names the missing file');
    assert.match(r.stderr, /ganvec models download ffhq/, 'gives the command that fixes it');
  };
  const adapt = ['adapt', '--from', 'ffhq', '--to', 'pixar'];

  it('when connections are refused', async () => {
    const registry = await registryPointingAt(`http://127.0.0.1:${await closedPort()}`, await mkdtemp(join(dir, 'r-')));
    expectClearFailure(await runBuiltCli(adapt, { GANVEC_HOME: await mkdtemp(join(dir, 'home-')), GANVEC_REGISTRY: registry }));
  });

  it('when the host accepts but never answers', async () => {
    const registry = await registryPointingAt(silent.url('').replace(/\/$/, ''), await mkdtemp(join(dir, 'r-')));
    expectClearFailure(await runBuiltCli(adapt, { GANVEC_HOME: await mkdtemp(join(dir, 'home-')), GANVEC_REGISTRY: registry }));
  });

  it('with GANVEC_OFFLINE=1 and the bundled registry', async () => {
    const r = await runBuiltCli(adapt, { GANVEC_HOME: await mkdtemp(join(dir, 'home-')), GANVEC_OFFLINE: '1' });
    expectClearFailure(r);
    assert.match(r.stderr, /GANVEC_OFFLINE=1/);
  });
});
