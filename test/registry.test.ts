import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { loadRegistry, parseRegistry, type RegistryEntry } from '../src/registry/registry.js';
import { cachedModelPath, resolveModel } from '../src/registry/resolve-model.js';
import { closedPort, fakeCheckpoint, serveBytes, startServer, type TestServer } from './fixtures/download/server.js';

function entry(overrides: Partial<RegistryEntry> = {}): RegistryEntry {
  return {
    name: 'tiny-generator',
    aliases: ['tiny'],
    kind: 'generator',
    format: 'rosinality-pt',
    resolution: 256,
    url: 'https://example.org/tiny.pt',
    mirrors: [],
    bytes: 1000,
    sha256: 'a'.repeat(64),
    licence: 'MIT',
    description: 'a test entry',
    ...overrides,
  };
}

describe('the bundled registry', () => {
  const registry = loadRegistry();

  test('"ffhq" is the rosinality FFHQ-1024 generator with its published size and hash', () => {
    const ffhq = registry.find('ffhq')!;
    assert.equal(ffhq.name, 'stylegan2-ffhq-config-f');
    assert.equal(ffhq.format, 'rosinality-pt');
    assert.equal(ffhq.resolution, 1024);
    assert.equal(ffhq.bytes, 132_717_355);
    assert.equal(ffhq.sha256, '646c7e7c5e3fc4cf8e83dcfe5dce505cc74b61d8982c09563932aa15c4baf18c');
    assert.match(ffhq.url, /^https:\/\/huggingface\.co\/aaronb\/StyleGAN2\/resolve\/5fde0cd\//);
    assert.match(ffhq.licence, /NVIDIA Source Code License.*non-commercial/);
  });

  test('the four OpenAI CLIP models are found by their OpenAI names, with the hash from their URL', () => {
    for (const name of ['ViT-B/32', 'ViT-B/16', 'ViT-L/14', 'ViT-L/14@336px']) {
      const clip = registry.find(name)!;
      assert.equal(clip.kind, 'clip', name);
      assert.equal(clip.format, 'openai-clip-jit');
      assert.equal(clip.url.split('/').at(-2), clip.sha256, name);
      assert.match(clip.licence, /^MIT/);
    }
    assert.equal(registry.find('ViT-L/14@336px')!.resolution, 336);
  });

  test('NVIDIA pickles have no invented hash or size; hash-pinned entries have both where published', () => {
    const pickles = registry.entries.filter((e) => e.format === 'nvidia-pkl');
    assert.ok(pickles.length >= 15);
    for (const e of pickles) {
      assert.equal(e.sha256, null, e.name);
      assert.equal(e.bytes, null, e.name);
      assert.match(e.licence, /NVIDIA Source Code License/);
    }
    const nada = registry.entries.filter((e) => e.name.startsWith('nada-'));
    assert.ok(nada.length >= 8);
    for (const e of nada) assert.equal(e.bytes, 132_724_587, e.name);
  });

  test("pytorch_GAN_zoo's four hub checkpoints, BSD, with the hash prefix their file names carry", () => {
    const hub = { 'celebAHQ-256': [256, '6196db68'], 'celebAHQ-512': [512, '9c72988c'], DTD: [128, '04efa39f'], celeba: [128, '2b0acc76'] } as const;
    for (const [hubName, [resolution, prefix]] of Object.entries(hub)) {
      const e = registry.find(hubName)!;
      assert.equal(e.format, 'pytorch-gan-zoo', hubName);
      assert.equal(e.resolution, resolution, hubName);
      assert.equal(e.sha256Prefix, prefix, hubName);
      assert.equal(e.sha256, null, hubName);
      assert.match(e.url, new RegExp(`^https://dl\\.fbaipublicfiles\\.com/gan_zoo/PGAN/.*-${prefix}\\.pth$`), hubName);
      assert.match(e.licence, /^BSD 3-Clause \(facebookresearch\/pytorch_GAN_zoo\)$/, hubName);
    }
    assert.equal(registry.find('celebAHQ-256')!.name, 'pgan-celebahq-256');
  });

  test('lookup ignores case and suggests close names for a typo', () => {
    assert.equal(registry.find('FFHQ')?.name, 'stylegan2-ffhq-config-f');
    assert.equal(registry.find('vit-b/32')?.name, 'clip-vit-b-32');
    assert.equal(registry.closeNames('ffqh')[0], 'ffhq');
    assert.ok(registry.closeNames('pixr').includes('nada-pixar'));
  });
});

describe('registry validation', () => {
  test('accepts a well-formed document', () => {
    const registry = parseRegistry({ models: [entry()] }, 'test.json');
    assert.equal(registry.find('TINY')?.name, 'tiny-generator');
  });

  test('reports every problem at once', () => {
    const models = [
      entry(),
      entry({ name: 'other', aliases: ['Tiny'] }),
      entry({ name: 'bad-hash', aliases: [], sha256: 'ABC' }),
      entry({ name: 'plain-http', aliases: [], url: 'http://example.org/x.pt' }),
      entry({ name: 'wrong-format', aliases: [], format: 'openai-clip-jit' }),
      entry({ name: 'unpinned-mirror', aliases: [], sha256: null, mirrors: ['https://example.org/y.pt'] }),
      entry({ name: 'url-hash', aliases: [], url: `https://example.org/${'b'.repeat(64)}/x.pt` }),
      entry({ name: 'Has Spaces', aliases: [] }),
      entry({ name: 'prefix-not-in-url', aliases: [], sha256: null, sha256Prefix: '0123abcd', url: 'https://example.org/x-89abcdef.pth' }),
      entry({ name: 'prefix-and-hash', aliases: [], sha256Prefix: 'aaaaaaaa', url: 'https://example.org/x-aaaaaaaa.pth' }),
    ];
    assert.throws(
      () => parseRegistry({ models }, 'test.json'),
      (err: Error) => {
        for (const expected of [
          /"other": name or alias "Tiny" is already used by "tiny-generator"/,
          /"bad-hash": "sha256" must be 64 lower-case hex digits/,
          /"plain-http": "http:\/\/example.org\/x.pt" must be an https URL/,
          /"wrong-format": "format" of a generator must be one of rosinality-pt, nvidia-pkl/,
          /"unpinned-mirror": "mirrors" need a sha256/,
          /"url-hash": "sha256" differs from the hash in its URL/,
          /"Has Spaces": name must match/,
          /"prefix-not-in-url": "sha256Prefix" is not the hash in its URL's file name/,
          /"prefix-and-hash": "sha256Prefix" is for entries whose full sha256 is not published/,
        ]) {
          assert.match(err.message, expected);
        }
        return true;
      },
    );
  });

  test('allows plain http only on loopback, for local servers', () => {
    assert.doesNotThrow(() => parseRegistry({ models: [entry({ url: 'http://127.0.0.1:8080/x.pt' })] }, 'test.json'));
  });

  test('GANVEC_REGISTRY replaces the bundled registry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ganvec-registry-'));
    const file = join(dir, 'registry.json');
    await writeFile(file, JSON.stringify({ models: [entry()] }));
    process.env.GANVEC_REGISTRY = file;
    try {
      assert.deepEqual(
        loadRegistry().entries.map((e) => e.name),
        ['tiny-generator'],
      );
    } finally {
      delete process.env.GANVEC_REGISTRY;
      await rm(dir, { recursive: true });
    }
  });
});

describe('resolveModel', () => {
  const checkpoint = fakeCheckpoint(20_000);
  const quiet = { log: () => undefined };
  let dir: string;
  let home: string;
  let server: TestServer | undefined;
  let caseCount = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ganvec-resolve-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    delete process.env.GANVEC_HOME;
    delete process.env.GANVEC_REGISTRY;
    delete process.env.GANVEC_OFFLINE;
  });

  /** A fresh, empty GANVEC_HOME and a registry whose "ffhq" lives at `url`. */
  async function setUp(url: string): Promise<RegistryEntry> {
    home = join(dir, `home-${++caseCount}`);
    const ffhq = entry({
      name: 'stylegan2-ffhq-config-f',
      aliases: ['ffhq'],
      resolution: 1024,
      url,
      bytes: checkpoint.bytes.length,
      sha256: checkpoint.sha256,
    });
    const clip = entry({ name: 'clip-vit-b-32', aliases: ['ViT-B/32'], kind: 'clip', format: 'openai-clip-jit', url });
    const registryFile = join(dir, `registry-${caseCount}.json`);
    await writeFile(registryFile, JSON.stringify({ models: [ffhq, clip] }));
    process.env.GANVEC_HOME = home;
    process.env.GANVEC_REGISTRY = registryFile;
    return ffhq;
  }

  test('an existing file path is used as it is', async () => {
    const file = join(dir, 'local.pt');
    await writeFile(file, checkpoint.bytes);
    assert.deepEqual(await resolveModel(file, { kind: 'generator', download: false }), { path: file });
  });

  test('a registered name downloads into the cache, telling the licence', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const ffhq = await setUp(server.url('/ffhq.pt'));
    const logged: string[] = [];
    const resolved = await resolveModel('ffhq', { kind: 'generator', download: true, ...quiet, log: (l) => logged.push(l) });
    assert.equal(resolved.path, join(home, 'generator', 'stylegan2-ffhq-config-f.pt'));
    assert.equal(resolved.entry?.name, ffhq.name);
    assert.match(logged.join('\n'), /licence: MIT/);

    // Cached now: no request, no licence again.
    logged.length = 0;
    await resolveModel('FFHQ', { kind: 'generator', download: true, ...quiet, log: (l) => logged.push(l) });
    assert.equal(server.requests.length, 1);
    assert.deepEqual(logged, []);
  });

  test('with an empty cache and the URL unreachable, "ffhq" fails in under 5 s saying how to get the file', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/stylegan2-ffhq-config-f.pt`;
    await setUp(url);
    const started = Date.now();
    await assert.rejects(resolveModel('ffhq', { kind: 'generator', download: true, ...quiet }), (err: Error) => {
      const path = join(home, 'generator', 'stylegan2-ffhq-config-f.pt');
      assert.ok(err.message.includes(path), 'names the missing file');
      assert.ok(err.message.includes('`ganvec models download ffhq`'), 'gives the command');
      assert.ok(err.message.includes(`download ${url} yourself and save it as ${path}`), 'says where to put it by hand');
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
  });

  test('a host that accepts but never answers also fails in under 5 s with the default timeouts', async () => {
    server = await startServer(() => undefined);
    await setUp(server.url('/stylegan2-ffhq-config-f.pt'));
    const started = Date.now();
    await assert.rejects(
      resolveModel('ffhq', { kind: 'generator', download: true, ...quiet }),
      /did not answer within .*\n[^]*ganvec models download ffhq/,
    );
    assert.ok(Date.now() - started < 5000);
  });

  test('GANVEC_OFFLINE=1 with the bundled registry explains the missing FFHQ generator', async () => {
    process.env.GANVEC_HOME = join(dir, 'offline-home');
    process.env.GANVEC_OFFLINE = '1';
    await assert.rejects(resolveModel('ffhq', { kind: 'generator', download: true, ...quiet }), (err: Error) => {
      assert.match(err.message, /GANVEC_OFFLINE=1/);
      assert.match(err.message, /stylegan2-ffhq-config-f\.pt/);
      assert.match(err.message, /huggingface\.co\/aaronb/);
      return true;
    });
  });

  test('without download permission a missing model is an error that makes no request', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    await setUp(server.url('/ffhq.pt'));
    await assert.rejects(resolveModel('ffhq', { kind: 'generator', download: false }), /is not downloaded yet[^]*ganvec models download ffhq/);
    assert.equal(server.requests.length, 0);
  });

  test('a cached file of the wrong size is not trusted', async () => {
    const ffhq = await setUp(`http://127.0.0.1:${await closedPort()}/x.pt`);
    const path = cachedModelPath(ffhq, home);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, 'truncated');
    await assert.rejects(resolveModel('ffhq', { kind: 'generator', download: false }), /has 9 bytes instead of 20000/);
  });

  test('a cached file of the right size but the wrong content is not trusted, and is downloaded again', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const ffhq = await setUp(server.url('/ffhq.pt'));
    const path = cachedModelPath(ffhq, home);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, Buffer.alloc(checkpoint.bytes.length, 1));
    const wrong = createHash('sha256').update(Buffer.alloc(checkpoint.bytes.length, 1)).digest('hex');
    await assert.rejects(
      resolveModel('ffhq', { kind: 'generator', download: false }),
      new RegExp(`the cached file's sha256 is ${wrong}, not the published ${checkpoint.sha256}`),
    );
    assert.equal(server.requests.length, 0);
    await resolveModel('ffhq', { kind: 'generator', download: true, ...quiet });
    assert.deepEqual(await readFile(path), checkpoint.bytes);
    assert.equal(server.requests.length, 1);
  });

  test('an unknown name lists close names of the right kind', async () => {
    await setUp('https://example.org/x.pt');
    await assert.rejects(resolveModel('ffqh', { kind: 'generator', download: true }), /"ffqh" is neither a file nor a registered generator\. Close names: ffhq/);
    await assert.rejects(resolveModel('./missing.pt', { kind: 'generator', download: true }), /no such file: \.\/missing\.pt/);
  });

  test('a model of the other kind is refused', async () => {
    await setUp('https://example.org/x.pt');
    await assert.rejects(resolveModel('ViT-B/32', { kind: 'generator', download: true }), /is a clip model \(clip-vit-b-32\), but a generator is needed/);
  });
});
