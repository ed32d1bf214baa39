/**
 * Sharing domains (issue 16): mixing domain files (exact arithmetic, lineage, refusals), `generate
 * --domain a:0.7 --domain b:0.5`, and domain files by https URL from a local server (pins, wrong files,
 * no network, the cache).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseModelMetadata, readDomainFile, writeDomainFile, type DomainFile } from '../src/domains/domain-file.js';
import { mixDomainFiles, parseDomainSpec } from '../src/domains/mix.js';
import { cachedDomainPath, fetchDomainFile, parseDomainUrl } from '../src/registry/domain-url.js';
import type { Generator } from '../src/generators/generator.js';
import { readNpy } from '../src/io/npy.js';
import { loadGenerator } from '../src/registry/load.js';
import { closedPort, serveBytes, startServer, TEST_CERTIFICATE, type TestServer } from './fixtures/download/server.js';
import { golden, GOLDENS } from './helpers/golden.js';
import { runCli, type CliResult } from './helpers/cli.js';

const SG2 = `${GOLDENS}sg2-tiny-a/`;
const TRAINING = { prompt: 'pixar', losses: '{"direction":1}', iterations: '300', clip_models: 'ViT-B/32', seed: '0' };

let dir: string;
let G: Generator;
let a: string;
let b: string;
let aFile: DomainFile;
let bFile: DomainFile;

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

async function ok(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await runCli(args, { env });
  assert.equal(r.code, 0, `ganvec ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
}

async function failsWith(args: string[], expected: RegExp, env: Record<string, string> = {}): Promise<void> {
  const r = await runCli(args, { env });
  assert.equal(r.code, 1, `expected exit code 1 from ganvec ${args.join(' ')}; stderr:\n${r.stderr}`);
  // The error is the last line (a first download may print its notice before it), with no stack trace.
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines.at(-1)!, /^ganvec: /, `expected a one-line error last, got:\n${r.stderr}`);
  assert.ok(lines.slice(0, -1).every((l) => !l.startsWith('ganvec:') && !/^\s+at /.test(l)), `one error line only, no stack:\n${r.stderr}`);
  assert.match(lines.at(-1)!, expected);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-mix-'));
  G = await loadGenerator(`${SG2}ckpt.pt`);
  const trained = (await golden('sg2-tiny-a', 'domain.npy')).data;
  aFile = { vector: trained, layers: G.domainLayers, metadata: { ...baseModelMetadata(G), ...TRAINING } };
  // A second domain unlike the first: values that no simple scaling of it gives.
  bFile = { vector: Float32Array.from(trained, (v, i) => Math.sin(i) * 0.3 - v / 3), layers: G.domainLayers, metadata: { ...baseModelMetadata(G), ...TRAINING, prompt: 'sketch' } };
  a = join(dir, 'a.dv.safetensors');
  b = join(dir, 'b.dv.safetensors');
  await writeDomainFile(a, aFile);
  await writeDomainFile(b, bFile);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('file:weight arguments', () => {
  test('a trailing number is the weight; other colons stay in the path', () => {
    assert.deepEqual(parseDomainSpec('a.dv.safetensors:0.7'), { path: 'a.dv.safetensors', weight: 0.7 });
    assert.deepEqual(parseDomainSpec('a.dv.safetensors:-1.5e-1'), { path: 'a.dv.safetensors', weight: -0.15 });
    assert.deepEqual(parseDomainSpec('a.dv.safetensors'), { path: 'a.dv.safetensors', weight: 1 });
    assert.deepEqual(parseDomainSpec('C:\\x\\a.dv.safetensors'), { path: 'C:\\x\\a.dv.safetensors', weight: 1 });
    assert.deepEqual(parseDomainSpec('https://h:8443/a.dv.safetensors#sha256=ab:2'), { path: 'https://h:8443/a.dv.safetensors#sha256=ab', weight: 2 });
  });
});

describe('mixDomainFiles', () => {
  test('the exact weighted sum, rounded once to float32, with the parents in the metadata', async () => {
    const mixed = await mixDomainFiles([{ path: a, weight: 0.7 }, { path: b, weight: 0.5 }]);
    assert.equal(mixed.vector.length, G.domainSize);
    for (let i = 0; i < mixed.vector.length; i++) {
      assert.equal(mixed.vector[i], Math.fround(0.7 * aFile.vector[i]! + 0.5 * bFile.vector[i]!), `value ${i}`);
    }
    assert.deepEqual(JSON.parse(mixed.metadata.parents!), [
      { name: 'a.dv.safetensors', sha256: await sha256(a), weight: 0.7 },
      { name: 'b.dv.safetensors', sha256: await sha256(b), weight: 0.5 },
    ]);
    assert.equal(mixed.metadata.base_fingerprint, G.source.fingerprint);
    assert.equal(mixed.metadata.parameterisation, 'domain-vector');
    // Written and read back, a mix is a domain file like any other.
    const out = join(dir, 'lib-mix.dv.safetensors');
    await writeDomainFile(out, mixed);
    assert.deepEqual((await readDomainFile(out)).vector, mixed.vector);
  });

  test('files for another generator, parameterisation or layer set are refused naming both files', async () => {
    const other = join(dir, 'other-generator.dv.safetensors');
    await writeDomainFile(other, { ...aFile, metadata: { ...aFile.metadata, base_model: 'elsewhere', base_fingerprint: 'f'.repeat(64) } });
    await assert.rejects(mixDomainFiles([{ path: a, weight: 1 }, { path: other, weight: 1 }]), (err: Error) => {
      assert.match(err.message, new RegExp(`^${a} and ${other} cannot be mixed: they are for different generators \\(ckpt, fingerprint ${G.source.fingerprint} vs elsewhere, fingerprint f{64}\\)$`));
      return true;
    });
    const offsets = join(dir, 'offsets.dv.safetensors');
    await writeDomainFile(offsets, { ...aFile, metadata: { ...aFile.metadata, parameterisation: 'style-offsets' } });
    await assert.rejects(mixDomainFiles([{ path: a, weight: 1 }, { path: offsets, weight: 1 }]), new RegExp(`^Error: ${a} and ${offsets} cannot be mixed: they are for different parameterisations \\(domain-vector vs style-offsets\\)$`));
    const fewer = join(dir, 'fewer-layers.dv.safetensors');
    const layers = G.domainLayers.slice(2);
    await writeDomainFile(fewer, { ...aFile, layers, vector: aFile.vector.slice(64) });
    await assert.rejects(mixDomainFiles([{ path: fewer, weight: 1 }, { path: b, weight: 1 }]), new RegExp(`^Error: ${fewer} and ${b} cannot be mixed: they are for different layers \\(convs\\.1:32 .* vs conv1:32 convs\\.0:32 .*\\)$`));
  });

  test('a raw .npy has no generator to check, so it is not mixed into a file', async () => {
    await assert.rejects(mixDomainFiles([{ path: a, weight: 1 }, { path: `${SG2}domain.npy`, weight: 1 }]), /domain\.npy: a raw \.npy does not say which generator/);
  });
});

describe('ganvec mix and generate --domain file:weight', () => {
  test('generate with the mixed file gives the same images as generate with the weighted parents, bit for bit', async () => {
    const out = join(dir, 'cli-mix.dv.safetensors');
    const r = await ok(['mix', `${a}:0.7`, `${b}:0.5`, '--out', out]);
    assert.match(r.stdout, /wrote .*cli-mix\.dv\.safetensors: 2 domains mixed, 192 values \(domain-vector\)/);
    const parents = JSON.parse((await readDomainFile(out)).metadata.parents!) as Array<{ weight: number }>;
    assert.deepEqual(parents.map((p) => p.weight), [0.7, 0.5]);

    const viaFile = join(dir, 'via-file.npy');
    const viaArgs = join(dir, 'via-args.npy');
    const plain = join(dir, 'plain.npy');
    const common = ['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '0-1'];
    await Promise.all([
      ok([...common, '--domain', out, '--npy', viaFile]),
      ok([...common, '--domain', `${a}:0.7`, '--domain', `${b}:0.5`, '--npy', viaArgs]),
      ok([...common, '--domain', a, '--npy', plain]),
    ]);
    const [x, y, z] = await Promise.all([readNpy(viaFile), readNpy(viaArgs), readNpy(plain)]);
    assert.deepEqual(x.data, y.data);
    assert.notDeepEqual(x.data, z.data, 'the mix is not just domain a');
  });

  test('mismatched files: one line naming both', async () => {
    const other = join(dir, 'other-generator.dv.safetensors');
    await failsWith(['mix', a, other, '--out', join(dir, 'never.dv.safetensors')], /a\.dv\.safetensors and .*other-generator\.dv\.safetensors cannot be mixed: they are for different generators/);
  });
});

describe('domain files by https URL', () => {
  let server: TestServer;
  let home: string;
  let bytes: Buffer;
  let pin: string;
  const notADomain = Buffer.from('{"hello": "this is JSON, not a domain file"}');
  const env = () => ({ GANVEC_HOME: home, GANVEC_OFFLINE: '0', NODE_EXTRA_CA_CERTS: TEST_CERTIFICATE });

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ganvec-url-home-'));
    bytes = await readFile(a);
    pin = createHash('sha256').update(bytes).digest('hex');
    server = await startServer((req, res) => {
      if (req.url === '/a.dv.safetensors') serveBytes(bytes, req, res);
      else if (req.url === '/not-a-domain.dv.safetensors') serveBytes(notADomain, req, res);
      else res.writeHead(404).end();
    }, { https: true });
  });
  after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  test('a pinned URL gives the same images as the local file, and is then used from the cache without network', async () => {
    const url = `${server.url('/a.dv.safetensors')}#sha256=${pin}`;
    const local = join(dir, 'local.npy');
    const remote = join(dir, 'remote.npy');
    const common = ['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '3'];
    await ok([...common, '--domain', a, '--npy', local]);
    await ok([...common, '--domain', `${url}:1`, '--npy', remote], env());
    assert.deepEqual((await readNpy(remote)).data, (await readNpy(local)).data);
    const before = server.requests.length;
    const again = await ok(['models', 'download', url], { ...env(), GANVEC_OFFLINE: '1' });
    assert.match(again.stdout, /already downloaded and verified: .*domains\/[0-9a-f]{16}\/a\.dv\.safetensors/);
    assert.equal(server.requests.length, before, 'the cached copy needed no request');
  });

  test('models download fetches a URL into the cache', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'ganvec-url-home-'));
    try {
      const r = await ok(['models', 'download', server.url('/a.dv.safetensors')], { ...env(), GANVEC_HOME: fresh });
      const path = /downloaded: (.*)$/m.exec(r.stdout)![1]!;
      assert.ok(path.startsWith(join(fresh, 'domains')), path);
      assert.deepEqual(await readFile(path), bytes);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  test('a bad pin and a file that is not a domain file are clear one-line errors, and the wrong file is not kept', async () => {
    const common = ['generate', '--model', `${SG2}ckpt.pt`, '--seeds', '0', '--npy', join(dir, 'never.npy')];
    await failsWith([...common, '--domain', `${server.url('/a.dv.safetensors')}#sha256=${'0'.repeat(64)}`],
      new RegExp(`domain .*a\\.dv\\.safetensors#sha256=0{64}: could not be fetched: it does not match the #sha256 pin: .*expected 0{64}.*got ${pin}`), env());
    const notDomain = server.url('/not-a-domain.dv.safetensors');
    await failsWith([...common, '--domain', notDomain], /not-a-domain\.dv\.safetensors: not a usable domain file \(safetensors: .*\); the download was removed/, env());
    await assert.rejects(readFile(cachedDomainPath(notDomain, home)), { code: 'ENOENT' });
  });

  test('URLs that are not https or carry another fragment, an unreachable host and no network', async () => {
    assert.throws(() => parseDomainUrl('http://127.0.0.1/a.dv.safetensors'), /^Error: http:\/\/127\.0\.0\.1\/a\.dv\.safetensors: domain files are fetched over https only, not http$/);
    assert.throws(() => parseDomainUrl('https://h/a.dv.safetensors#sha256=abc'), /the only URL fragment understood is #sha256=<64 hex digits>, got #sha256=abc/);
    assert.deepEqual(parseDomainUrl(`https://h/a.dv.safetensors#sha256=${'AB'.repeat(32)}`), { url: 'https://h/a.dv.safetensors', sha256: 'ab'.repeat(32) });
    const port = await closedPort();
    const quiet = { home, log: () => undefined, retries: 0 };
    await assert.rejects(fetchDomainFile(`https://127.0.0.1:${port}/a.dv.safetensors`, quiet), /^Error: domain https:\/\/127\.0\.0\.1:\d+\/a\.dv\.safetensors: could not be fetched: .*127\.0\.0\.1/);
    const saved = process.env.GANVEC_OFFLINE;
    process.env.GANVEC_OFFLINE = '1';
    try {
      await assert.rejects(fetchDomainFile(`https://127.0.0.1:${port}/b.dv.safetensors`, quiet), /could not be fetched: network access is disabled \(GANVEC_OFFLINE=1\)/);
    } finally {
      if (saved === undefined) delete process.env.GANVEC_OFFLINE;
      else process.env.GANVEC_OFFLINE = saved;
    }
  });
});
