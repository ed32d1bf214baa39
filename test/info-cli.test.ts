/** `ganvec info` on every kind of file it meets: generators, domain files, CLIP checkpoints, arrays, junk. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { baseModelMetadata, writeDomainFile } from '../src/domains/domain-file.js';
import { parameterCount, type StyleGAN2 } from '../src/generators/stylegan2/architecture.js';
import type { Generator } from '../src/generators/generator.js';
import { loadGenerator } from '../src/registry/load.js';
import { GOLDENS } from './helpers/golden.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { PickleBuilder, legacyTorchSave } from './fixtures/io/build-pickle.js';


const ganvecInfo = (args: string[]) => runCli(['info', ...args]);

async function infoJson(path: string): Promise<Record<string, unknown>> {
  const r = await ganvecInfo([path, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('ganvec info', { concurrency: true }, () => {
  let dir: string;
  let rosinality: Generator;
  let domainFile: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ganvec-info-'));
    rosinality = await loadGenerator(`${GOLDENS}sg2-tiny-a/ckpt.pt`);
    domainFile = join(dir, 'pixar.dv.safetensors');
    const vector = Float32Array.from({ length: rosinality.domainSize }, (_, i) => (i < 32 ? 0.5 : 0));
    await writeDomainFile(domainFile, {
      vector,
      layers: rosinality.domainLayers,
      metadata: { ...baseModelMetadata(rosinality), prompt: 'pixar', losses: '{"direction":1}', iterations: '300', clip_models: 'ViT-B/32', seed: '7' },
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a rosinality generator: architecture, domain layers, fingerprint', async () => {
    const { code, stdout } = await ganvecInfo([`${GOLDENS}sg2-tiny-a/ckpt.pt`]);
    assert.equal(code, 0);
    assert.match(stdout, /^kind\s+StyleGAN2 generator \(rosinality-torch-zip\)$/m);
    assert.match(stdout, /^resolution\s+32×32$/m);
    assert.match(stdout, /^n_mlp\s+4$/m);
    assert.match(stdout, /^channels\s+4:32 8:32 16:24 32:16$/m);
    assert.match(stdout, /^domain vector\s+192 values \(conv1 32, convs\.0 32, convs\.1 32, convs\.2 32, convs\.3 24, convs\.4 24, convs\.5 16\)$/m);
    assert.match(stdout, new RegExp(`^fingerprint\\s+${rosinality.source.fingerprint}$`, 'm'));
    assert.match(stdout, /^w_avg\s+stored$/m);
  });

  test('an NVIDIA pickle as JSON', async () => {
    const G = await loadGenerator(`${GOLDENS}sg2ada-tiny-a/network-snapshot.pkl`);
    const info = await infoJson(`${GOLDENS}sg2ada-tiny-a/network-snapshot.pkl`);
    assert.deepEqual(
      { ...info, file: undefined },
      {
        kind: 'generator',
        file: undefined,
        format: 'nvidia-pkl',
        resolution: 32,
        styleDim: 64,
        nMlp: 2,
        nLatent: 8,
        channels: { 4: 32, 8: 32, 16: 24, 32: 12 },
        parameters: parameterCount(G.arch as StyleGAN2),
        domainSize: 188,
        domainLayers: G.domainLayers,
        fingerprint: G.source.fingerprint,
        hasWAvg: true,
        convClamp: null,
      },
    );
  });

  test('a domain file: which generator it is for, its layers, norm and metadata', async () => {
    const text = await ganvecInfo([domainFile]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^kind\s+ganvec domain file \(format_version 1\)$/m);
    assert.match(text.stdout, new RegExp(`^for generator\\s+ckpt \\(fingerprint ${rosinality.source.fingerprint}\\)$`, 'm'));
    assert.match(text.stdout, /^vector\s+192 values, L2 norm 2\.828$/m);
    assert.match(text.stdout, /^prompt\s+pixar$/m);
    const info = await infoJson(domainFile);
    assert.equal(info.kind, 'domain');
    assert.equal(info.baseFingerprint, rosinality.source.fingerprint);
    assert.equal(info.size, 192);
    assert.ok(Math.abs((info.norm as number) - Math.sqrt(8)) < 1e-6);
    assert.deepEqual((info.layers as Array<{ name: string; norm: number }>).map((l) => [l.name, l.norm > 0]).slice(0, 2), [['conv1', true], ['convs.0', false]]);
    assert.equal((info.metadata as Record<string, string>).seed, '7');
  });

  test('a CLIP checkpoint is named as such', async () => {
    const info = await infoJson(`${GOLDENS}clip-tiny-a/clip_jit.pt`);
    assert.equal(info.kind, 'clip');
    assert.equal(info.format, 'torchscript');
    assert.equal(info.clipLayout, 'OpenAI');
    assert.ok((info.tensors as number) > 10);
  });

  test('a .npy array', async () => {
    const info = await infoJson(`${GOLDENS}sg2-tiny-a/z.npy`);
    assert.deepEqual(info, { kind: 'npy', file: `${GOLDENS}sg2-tiny-a/z.npy`, dtype: 'float32', shape: [3, 64] });
  });

  test('junk and missing files are one-line errors', async () => {
    const page = join(dir, 'model.pt');
    await writeFile(page, '<html><head><title>Quota exceeded</title></head></html>');
    const junk = await ganvecInfo([page]);
    assert.equal(junk.code, 1);
    assert.equal(junk.stderr, `ganvec: ${page}: not a checkpoint: it is an HTML page (a web page was saved instead of the file: check the download link, it may need a login or a "confirm download" step)\n`);
    const missing = await ganvecInfo([join(dir, 'nothing.pt')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `ganvec: no such file: ${join(dir, 'nothing.pt')}\n`);
  });

  test('control characters in metadata are shown escaped, in text and in JSON', async () => {
    const prompt = 'pixar\x1b]0;owned\x07 \u009b2J';
    const path = join(dir, 'title.dv.safetensors');
    await writeDomainFile(path, {
      vector: new Float32Array(rosinality.domainSize),
      layers: rosinality.domainLayers,
      metadata: { ...baseModelMetadata(rosinality), prompt, losses: '{}', iterations: '1', clip_models: 'ViT-B/32', seed: '0' },
    });
    const text = await ganvecInfo([path]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^prompt\s+pixar\\x1b\]0;owned\\x07 \\x9b2J$/m);
    assert.doesNotMatch(text.stdout, CONTROL);
    const json = await ganvecInfo([path, '--json']);
    assert.doesNotMatch(json.stdout, CONTROL);
    assert.equal((JSON.parse(json.stdout) as { metadata: { prompt: string } }).metadata.prompt, prompt);
  });
});

/** Control characters other than the newline that ends each line of output. */
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

/** Hostile files from the fuzzing pass of issue 11, each built here. */
describe('ganvec info on hostile files', { concurrency: true }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ganvec-info-hostile-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** Runs `info` under a guard that kills it after a minute (these files used to hang or crash it). */
  async function infoOn(name: string, bytes: Uint8Array): Promise<{ path: string; r: CliResult }> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return { path, r: await runCli(['info', path], { timeout: 60_000 }) };
  }

  /** Exit 1 with one line that names the file and says what is wrong, free of control characters. */
  function assertOneLineError({ path, r }: { path: string; r: CliResult }, problem: RegExp): void {
    assert.equal(r.signal, null, 'killed by the guard: it hung');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^ganvec: [^\n]*\n$/);
    assert.ok(r.stderr.startsWith(`ganvec: ${path}: `), r.stderr);
    assert.match(r.stderr, problem);
    assert.doesNotMatch(r.stderr, CONTROL);
  }

  /** `{name: value}` as a protocol 2 pickle, `value` written by `push`. */
  function dictPickle(name: string, push: (b: PickleBuilder) => void): Uint8Array {
    const b = new PickleBuilder().proto().emptyDict().str(name);
    push(b);
    return b.raw(0x73 /* SETITEM */).stop().bytes();
  }

  test('an 8-byte pickle with a negative BINSTRING length', async () => {
    assertOneLineError(await infoOn('neg.pkl', Uint8Array.of(0x80, 2, 0x54, 0xfb, 0xff, 0xff, 0xff, 0x2e)), /negative BINSTRING length/);
  });

  test('30 levels of memo-shared lists, L = [L′, L′], are walked once', async () => {
    const bytes = dictPickle('shared', (b) => {
      b.raw(0x5d, 0x71, 0); // EMPTY_LIST, BINPUT 0
      for (let level = 0; level < 30; level++) b.raw(0x30, 0x28, 0x68, 0, 0x68, 0, 0x6c, 0x71, 0); // POP, MARK, BINGET 0 ×2, LIST, BINPUT 0
    });
    assertOneLineError(await infoOn('shared.pkl', bytes), /no G_ema network in it/);
  });

  test('a 1 MiB LONG4 integer decodes in linear time', async () => {
    const bytes = dictPickle('n', (b) => {
      const length = new Uint8Array(4);
      new DataView(length.buffer).setInt32(0, 2 ** 20, true);
      b.raw(0x8b, ...length);
    });
    const whole = new Uint8Array(bytes.length + 2 ** 20);
    const split = bytes.length - 2; // the 1 MiB of digits go between the LONG4 length and SETITEM, STOP
    whole.set(bytes.subarray(0, split));
    whole.fill(0xab, split, split + 2 ** 20);
    whole.set(bytes.subarray(split), split + 2 ** 20);
    assertOneLineError(await infoOn('long4.pkl', whole), /no G_ema network in it/);
  });

  test('data nested 100,000 levels deep', async () => {
    const head = dictPickle('deep', (b) => b.none());
    const bytes = new Uint8Array(head.length + 100_000);
    const split = head.length - 2;
    bytes.set(head.subarray(0, split));
    bytes.fill(0x85 /* TUPLE1 */, split, split + 100_000);
    bytes.set(head.subarray(split), split + 100_000);
    assertOneLineError(await infoOn('deep.pkl', bytes), /no G_ema network in it/);
  });

  test('a 16.7 KB .pt that views 4,096 floats as [32768, 32768] with strides (0, 0)', async () => {
    const bytes = legacyTorchSave({ name: 'w', storageNumel: 4096, offset: 0, size: [32768, 32768], stride: [0, 0], data: new Float32Array(4096) });
    assertOneLineError(await infoOn('stride0.pt', bytes), /more than 4 times the 4096 of its storage/);
  });

  test('tensor and network names with control characters are shown escaped', async () => {
    const header = new TextEncoder().encode(JSON.stringify({ 'a\x1b[2Jb': { dtype: 'Q8', shape: [1], data_offsets: [0, 1] } }));
    const safetensors = new Uint8Array(8 + header.length + 1);
    new DataView(safetensors.buffer).setBigUint64(0, BigInt(header.length), true);
    safetensors.set(header, 8);
    assertOneLineError(await infoOn('names.safetensors', safetensors), /tensor a\\x1b\[2Jb has unsupported dtype "Q8"/);
    // A network (an object with module state) under a name that would retitle the terminal.
    const pkl = dictPickle('G\x1b]0;owned\x07', (b) => {
      b.global('some.module', 'Net').emptyTuple().newobj().emptyDict().str('_parameters').emptyDict().raw(0x73).build();
    });
    assertOneLineError(await infoOn('names.pkl', pkl), /no G_ema network in it \(found: G\\x1b\]0;owned\\x07\)/);
  });
});
