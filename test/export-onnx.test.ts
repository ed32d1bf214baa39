/**
 * `ganvec export onnx`: the exported model, run by stock onnxruntime-node (and onnxruntime-web's wasm
 * in Node), reproduces `ganvec generate` to 1e-5 relative: seeds through the mapping, truncation, a domain
 * input or a baked mix, the three noise modes, W+ input, a reduced size, and an NVIDIA-layout generator.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../src/core/tensor.js';
import { baseModelMetadata, readDomainFile, writeDomainFile } from '../src/domains/domain-file.js';
import { mixDomainVectors } from '../src/domains/weighted-sum.js';
import { exportOnnx } from '../src/generators/onnx-export.js';
import { sampleInputs, zFromSeeds } from '../src/generators/latents.js';
import type { Generator } from '../src/generators/generator.js';
import { readNpy } from '../src/io/npy.js';
import { loadGenerator } from '../src/registry/load.js';
import { golden, GOLDENS, relativeError } from './helpers/golden.js';
import { runCli, runCliOk } from './helpers/cli.js';

const SG2 = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const ADA = `${GOLDENS}sg2ada-tiny-a/network-snapshot.pkl`;
const EXACT = 1e-5;

let dir: string;
let G: Generator;
let a: string;
let b: string;
let domainA: Float32Array;

const ok = async (args: string[]): Promise<string> => (await runCliOk(args)).stdout;

/** What `ganvec generate` computes (its render loop calls exactly this), in this process: cheaper than a CLI run. */
async function generatedHere(G_: Generator, seeds: number[], opts: { truncation?: number; domain?: Float32Array; noise?: 'const' | 'none' | 'random'; noiseSeed?: number } = {}): Promise<Float32Array> {
  return (await G_.generate({ z: zFromSeeds(seeds, G_.styleDim), ...opts })).data;
}

async function generated(args: string[]): Promise<Tensor> {
  const out = join(dir, `gen-${Math.random().toString(36).slice(2)}.npy`);
  await ok(['generate', ...args, '--npy', out]);
  return (await readNpy(out)) as Tensor;
}

async function exported(args: string[]): Promise<string> {
  const out = join(dir, `model-${Math.random().toString(36).slice(2)}.onnx`);
  await ok(['export', 'onnx', ...args, '--out', out]);
  return out;
}

/** Feeds for the exported model: latents, ψ, optional domain, and a noise mode as its inputs say. */
function feeds(G_: Generator, latent: { name: 'z' | 'w'; t: Tensor }, psi: number, noise: 'const' | 'none' | 'random', domain?: Float32Array, noiseSeed = 0): Record<string, ort.Tensor> {
  const n = latent.t.shape[0]!;
  const f: Record<string, ort.Tensor> = {
    [latent.name]: new ort.Tensor('float32', latent.t.data, latent.t.shape),
    truncation: new ort.Tensor('float32', Float32Array.of(psi), [1]),
    const_noise: new ort.Tensor('float32', Float32Array.of(noise === 'const' ? 1 : 0), [1]),
  };
  if (domain) f.domain = new ort.Tensor('float32', domain, [domain.length]);
  const maps = sampleInputs(G_.sampleInputs, n, noise === 'random' ? 'random' : 'none', noiseSeed);
  G_.sampleInputs.forEach((s, i) => (f[s.name] = new ort.Tensor('float32', maps[i]!.data, maps[i]!.shape)));
  return f;
}

async function runModel(model: string | Uint8Array, f: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, { executionProviders: ['cpu'] }) : await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  try {
    return (await session.run(f)).img!.data as Float32Array;
  } finally {
    await session.release();
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-export-'));
  G = await loadGenerator(SG2);
  domainA = (await golden('sg2-tiny-a', 'domain.npy')).data;
  const meta = { ...baseModelMetadata(G), prompt: 'x', losses: '{}', iterations: '1', clip_models: 'ViT-B/32', seed: '0' };
  a = join(dir, 'a.dv.safetensors');
  b = join(dir, 'b.dv.safetensors');
  await writeDomainFile(a, { vector: domainA, layers: G.domainLayers, metadata: meta });
  await writeDomainFile(b, { vector: Float32Array.from(domainA, (v, i) => Math.cos(i) * 0.2 - v / 2), layers: G.domainLayers, metadata: meta });
});
after(async () => {
  await G.release();
  await rm(dir, { recursive: true, force: true });
});

describe('the exported model reproduces ganvec generate', { concurrency: true }, () => {
  test('seeds, truncation 0.7, a domain input; const, none and random noise', async (t) => {
    const model = await exported(['--model', SG2, '--domain', a, '--batch', '2']);
    const z = zFromSeeds([3, 4], G.styleDim);
    const viaCli = await generated(['--model', SG2, '--seeds', '3-4', '--truncation', '0.7', '--domain', a]);
    const cliError = relativeError(await runModel(model, feeds(G, { name: 'z', t: z }, 0.7, 'const', domainA)), viaCli.data);
    t.diagnostic(`const noise vs the CLI: relative error ${cliError.toExponential(2)}`);
    assert.ok(cliError < EXACT, `const noise vs the CLI: relative error ${cliError}`);
    for (const noise of ['none', 'random'] as const) {
      const ours = await runModel(model, feeds(G, { name: 'z', t: z }, 0.7, noise, domainA, 11));
      const error = relativeError(ours, await generatedHere(G, [3, 4], { truncation: 0.7, domain: domainA, noise, noiseSeed: 11 }));
      t.diagnostic(`noise ${noise}: relative error ${error.toExponential(2)}`);
      assert.ok(error < EXACT, `noise ${noise}: relative error ${error}`);
    }
    // Zeros are the original generator.
    const plain = await runModel(model, feeds(G, { name: 'z', t: z }, 1, 'const', new Float32Array(G.domainSize)));
    const error = relativeError(plain, await generatedHere(G, [3, 4]));
    t.diagnostic(`relative error ${error.toExponential(2)}`);
    assert.ok(error < EXACT, `zero domain: relative error ${error}`);
  });

  test('a baked mix (--domain a:0.7 --domain b:0.5 --bake-domain) has no domain input and gives the mix', async (t) => {
    const model = await exported(['--model', SG2, '--domain', `${a}:0.7`, '--domain', `${b}:0.5`, '--bake-domain']);
    const session = await ort.InferenceSession.create(model);
    assert.ok(!session.inputNames.includes('domain'), session.inputNames.join(','));
    await session.release();
    const ours = await runModel(model, feeds(G, { name: 'z', t: zFromSeeds([7], G.styleDim) }, 1, 'const'));
    const mix = mixDomainVectors([domainA, (await readDomainFile(b)).vector], [0.7, 0.5]);
    const error = relativeError(ours, await generatedHere(G, [7], { domain: mix }));
    t.diagnostic(`relative error ${error.toExponential(2)}`);
    assert.ok(error < EXACT, `relative error ${error}`);
  });

  test('--latent w takes W+ rows; --size 16 is the 2×2 box average of the 32 px images', async (t) => {
    const w = (await readNpy(`${GOLDENS}sg2-tiny-a/w.npy`)) as Tensor;
    const wPlus = { data: new Float32Array(3 * G.nLatent * G.styleDim), shape: [3, G.nLatent, G.styleDim] };
    for (let i = 0; i < 3; i++) for (let l = 0; l < G.nLatent; l++) wPlus.data.set(w.data.subarray(i * 64, (i + 1) * 64), (i * G.nLatent + l) * 64);
    const { model } = await exportOnnx(G, { latent: 'w', batch: 3, size: 16 });
    const ours = await runModel(model, feeds(G, { name: 'w', t: wPlus }, 1, 'const', domainA));
    const full = await G.synthesize({ w, domain: domainA });
    const pooled = new Float32Array(3 * 3 * 16 * 16);
    for (let c = 0; c < 9; c++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      const at = (dy: number, dx: number) => full.data[c * 1024 + (2 * y + dy) * 32 + 2 * x + dx]!;
      pooled[c * 256 + y * 16 + x] = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4;
    }
    const error = relativeError(ours, pooled);
    t.diagnostic(`relative error ${error.toExponential(2)}`);
    assert.ok(error < EXACT, `relative error ${error}`);
  });

  test('an NVIDIA-layout generator (its own mapping and w_avg), truncation 0.5', async (t) => {
    const nvidia = await loadGenerator(ADA);
    const { model } = await exportOnnx(nvidia, {});
    const ours = await runModel(model, feeds(nvidia, { name: 'z', t: zFromSeeds([2], nvidia.styleDim) }, 0.5, 'const', new Float32Array(nvidia.domainSize)));
    const error = relativeError(ours, await generatedHere(nvidia, [2], { truncation: 0.5 }));
    await nvidia.release();
    t.diagnostic(`relative error ${error.toExponential(2)}`);
    assert.ok(error < EXACT, `relative error ${error}`);
  });

  for (const [family, file, psi] of [
    ['StyleGAN3-T', 'sg3t-tiny-a/network-snapshot.pkl', 0.7],
    ['StyleGAN3-R', 'sg3r-tiny-a/network-snapshot.pkl', 1],
    ['the Progressive GAN', 'pgan-tiny-a/checkpoint.pth', 1],
  ] as const) {
    test(`${family}: the same export, with its golden domain vector, truncation ${psi}`, async (t) => {
      const other = await loadGenerator(`${GOLDENS}${file}`);
      try {
        const domain = (await golden(file.split('/')[0]!, 'domain.npy')).data;
        const { model } = await exportOnnx(other, { batch: 2 });
        const ours = await runModel(model, feeds(other, { name: 'z', t: zFromSeeds([4, 9], other.styleDim) }, psi, 'const', domain));
        const error = relativeError(ours, await generatedHere(other, [4, 9], { truncation: psi === 1 ? undefined : psi, domain }));
        t.diagnostic(`relative error ${error.toExponential(2)}`);
        assert.ok(error < EXACT, `relative error ${error}`);
      } finally {
        await other.release();
      }
    });
  }

  test('onnxruntime-web (wasm, in Node) loads and runs the same model with the same images', async (t) => {
    const web = await import('onnxruntime-web');
    web.env.wasm.numThreads = 1;
    const { model: bytes } = await exportOnnx(G, {});
    const session = await web.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const f = feeds(G, { name: 'z', t: zFromSeeds([5], G.styleDim) }, 0.7, 'const', domainA);
    const webFeeds = Object.fromEntries(Object.entries(f).map(([k, t]) => [k, new web.Tensor('float32', t.data as Float32Array, t.dims)]));
    const img = (await session.run(webFeeds)).img!.data as Float32Array;
    await session.release();
    const error = relativeError(img, await runModel(bytes, f));
    t.diagnostic(`relative error ${error.toExponential(2)}`);
    assert.ok(error < EXACT, `web vs node: relative error ${error}`);
  });
});

describe('export refusals', () => {
  test('--bake-domain without --domain, and a size that does not divide the generator\'s', async () => {
    const r1 = await runCli(['export', 'onnx', '--model', SG2, '--bake-domain', '--out', join(dir, 'x.onnx')]);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /--bake-domain needs --domain/);
    const r2 = await runCli(['export', 'onnx', '--model', SG2, '--size', '24', '--out', join(dir, 'x.onnx')]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /--size 24: the exported size must divide the generator's 32 px/);
  });
});
