import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fakeCheckpoint, serveBytes, startServer, type TestServer } from './fixtures/download/server.js';
import { runCli } from './helpers/cli.js';


/** Runs `ganvec models ...` as a user would, with its own environment (network allowed: local servers). */
const ganvecModels = (args: string[], env: Record<string, string> = {}) =>
  runCli(['models', ...args], { env: { GANVEC_OFFLINE: '', ...env } });

describe('ganvec models with the bundled registry', { concurrency: true }, () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ganvec-cli-'));
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });

  test('--help names the subcommands and where files go', async () => {
    const { code, stdout } = await ganvecModels(['--help']);
    assert.equal(code, 0);
    for (const word of ['list', 'info', 'download', 'path', 'verify', 'GANVEC_HOME', 'GANVEC_OFFLINE']) assert.match(stdout, new RegExp(word));
  });

  test('list shows generators and CLIP models, filtered by kind on request', async () => {
    const all = await ganvecModels(['list'], { GANVEC_HOME: home });
    assert.equal(all.code, 0);
    assert.match(all.stdout, /^stylegan2-ffhq-config-f\s+generator\s+1024\s+126\.6 MiB\s+-\s+NVIDIA Source Code License \(non-commercial\)\s+ffhq, ffhq-1024$/m);
    assert.match(all.stdout, /^clip-vit-b-32\s+clip\s+224/m);
    // NVIDIA's StyleGAN3 pickles, configs T and R (no published size: "?").
    for (const name of ['stylegan3-t-ffhqu-1024x1024', 'stylegan3-r-ffhqu-256x256', 'stylegan3-t-afhqv2-512x512', 'stylegan3-r-metfacesu-1024x1024']) {
      assert.match(all.stdout, new RegExp(`^${name}\\s+generator\\s+\\d+\\s+\\?\\s+-\\s+NVIDIA Source Code License \\(non-commercial\\)`, 'm'));
    }
    const clip = await ganvecModels(['list', '--kind', 'clip', '--json'], { GANVEC_HOME: home });
    const entries = JSON.parse(clip.stdout) as Array<{ kind: string; path: string }>;
    assert.ok(entries.length >= 4 && entries.every((e) => e.kind === 'clip'));
    assert.ok(entries[0]!.path.startsWith(join(home, 'clip')));
  });

  test('info shows source, hash, licence and cache path', async () => {
    const { code, stdout } = await ganvecModels(['info', 'ffhq'], { GANVEC_HOME: home });
    assert.equal(code, 0);
    assert.match(stdout, /sha256\s+646c7e7c5e3fc4cf8e83dcfe5dce505cc74b61d8982c09563932aa15c4baf18c/);
    assert.match(stdout, /size\s+132,717,355 bytes/);
    assert.match(stdout, /licence\s+NVIDIA Source Code License/);
    assert.ok(stdout.includes(`${join(home, 'generator', 'stylegan2-ffhq-config-f.pt')} (not downloaded)`));
  });

  test('an unknown name is a one-line error with close names', async () => {
    const { code, stderr } = await ganvecModels(['info', 'ffqh']);
    assert.equal(code, 1);
    assert.match(stderr, /^ganvec: no registered model is called "ffqh"\. Close names: ffhq/);
  });

  test('download with GANVEC_OFFLINE=1 fails and says how to fetch the file by hand', async () => {
    const { code, stderr } = await ganvecModels(['download', 'ViT-B/32'], { GANVEC_HOME: home, GANVEC_OFFLINE: '1' });
    assert.equal(code, 1);
    assert.match(stderr, /GANVEC_OFFLINE=1/);
    assert.ok(stderr.includes(`save it as ${join(home, 'clip', 'clip-vit-b-32.pt')}`));
  });
});

describe('ganvec models against a local server', () => {
  const checkpoint = fakeCheckpoint(50_000);
  const unpublished = fakeCheckpoint(30_000);
  let dir: string;
  let server: TestServer;
  let env: Record<string, string>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ganvec-cli-'));
    server = await startServer((req, res) => serveBytes(req.url === '/nvidia.pkl' ? unpublished.bytes : checkpoint.bytes, req, res));
    const common = { kind: 'generator', resolution: 256, licence: 'NVIDIA Source Code License (test)', description: 'test' };
    const models = [
      { ...common, name: 'tiny-ffhq', aliases: ['tiny'], format: 'rosinality-pt', url: server.url('/tiny.pt'), bytes: checkpoint.bytes.length, sha256: checkpoint.sha256 },
      { ...common, name: 'tiny-nvidia', aliases: [], format: 'nvidia-pkl', url: server.url('/nvidia.pkl'), bytes: null, sha256: null },
    ];
    await writeFile(join(dir, 'registry.json'), JSON.stringify({ models }));
    env = { GANVEC_HOME: join(dir, 'home'), GANVEC_REGISTRY: join(dir, 'registry.json') };
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('path, download, verify: the life of a cached model', async () => {
    const path = join(dir, 'home', 'generator', 'tiny-ffhq.pt');

    const before = await ganvecModels(['path', 'tiny'], env);
    assert.equal(before.code, 1);
    assert.equal(before.stdout, `${path}\n`);
    assert.match(before.stderr, /not downloaded yet: run `ganvec models download tiny`/);

    const download = await ganvecModels(['download', 'tiny'], env);
    assert.equal(download.code, 0, download.stderr);
    assert.equal(download.stdout, `tiny-ffhq: downloaded: ${path}\n`);
    assert.match(download.stderr, /licence: NVIDIA Source Code License \(test\)/);
    assert.ok(existsSync(path));

    const again = await ganvecModels(['download', 'tiny'], env);
    assert.equal(again.stdout, `tiny-ffhq: already downloaded and verified: ${path}\n`);
    assert.equal(again.stderr, '', 'no licence or progress noise when nothing is downloaded');

    const verified = await ganvecModels(['verify'], env);
    assert.equal(verified.code, 0);
    assert.match(verified.stdout, /^ok\s+tiny-ffhq/m);
    assert.match(verified.stdout, /1 registered models are not downloaded/);

    await writeFile(path, Buffer.alloc(checkpoint.bytes.length, 1));
    const corrupted = await ganvecModels(['verify', 'tiny'], env);
    assert.equal(corrupted.code, 1);
    assert.match(corrupted.stdout, new RegExp(`^mismatch\\s+tiny-ffhq .*expected ${checkpoint.sha256} \\(published\\)`, 'm'));

    const missing = await ganvecModels(['verify', 'tiny-nvidia'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /^missing\s+tiny-nvidia .*ganvec models download tiny-nvidia/m);
  });

  test('a model with no published hash gets one recorded at download, and verify uses it', async () => {
    const download = await ganvecModels(['download', 'tiny-nvidia'], env);
    assert.equal(download.code, 0, download.stderr);
    assert.match(download.stderr, new RegExp(`no sha256 is published for this file; recorded ${unpublished.sha256}`));
    const verified = await ganvecModels(['verify', 'tiny-nvidia'], env);
    assert.equal(verified.code, 0);
    assert.match(verified.stdout, /^ok\s+tiny-nvidia/m);
    const info = await ganvecModels(['info', 'tiny-nvidia'], env);
    assert.match(info.stdout, new RegExp(`sha256\\s+${unpublished.sha256} \\(recorded at the first download; none is published\\)`));
  });
});
