/**
 * The ganvec viewer: an exported generator (`ganvec export onnx`, served with its facts as model.json by
 * `ganvec serve-web`) run by onnxruntime-web, WebGPU where the browser has an adapter and wasm otherwise.
 * Seeds become z by NumPy's RandomState, domain files mix by their strengths, and pixels convert as
 * `ganvec generate` converts them, all by ganvec's own code, so a seed gives the same image here.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { mixDomainVectors } from '../../src/domains/weighted-sum.js';
import { sampleInputs, zFromSeeds, type NoiseMode } from '../../src/generators/latents.js';
import { pixelByte } from '../../src/io/pixels.js';
import { readDomainBytes, type ModelFacts } from './domain-file.js';

interface ModelJson extends ModelFacts {
  model: string;
  family: string;
  size: number;
  zDim: number;
  inputs: Array<{ name: string; shape: number[] }>;
  /** Domain files the server was started with, preloaded. */
  domains: Array<{ name: string; url: string }>;
}

interface LoadedDomain {
  name: string;
  vector: Float32Array;
  strength: HTMLInputElement;
}

/** What the page last did, for people (the status line) and for the browser test. */
interface ViewerState {
  ready: Promise<void>;
  backend?: string;
  generations: number;
  last?: { ms: number; seed: number };
  error?: string;
}

const FIXED_INPUTS = new Set(['z', 'truncation', 'domain', 'const_noise']);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: ViewerState = { ready: Promise.resolve(), generations: 0 };
(window as unknown as { ganvec: ViewerState }).ganvec = state;

const domains: LoadedDomain[] = [];
let facts: ModelJson;
let session: ort.InferenceSession;
let running: Promise<void> = Promise.resolve();

function status(text: string, isError = false): void {
  const el = $('status');
  el.textContent = text;
  el.className = isError ? 'error' : '';
  if (isError) state.error = text;
}

/** WebGPU when an adapter is there (and it can build the model), else wasm with threads when isolated. */
async function createSession(bytes: Uint8Array): Promise<void> {
  ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const wantGpu = new URLSearchParams(location.search).get('backend') !== 'wasm';
  if (wantGpu && gpu && (await gpu.requestAdapter().catch(() => null))) {
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
      state.backend = 'webgpu';
      return;
    } catch (err) {
      console.warn('WebGPU could not run the model; using wasm', err);
    }
  }
  session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  state.backend = `wasm (${ort.env.wasm.numThreads} thread${ort.env.wasm.numThreads === 1 ? '' : 's'})`;
}

async function start(): Promise<void> {
  facts = (await (await fetch('model.json')).json()) as ModelJson;
  const bytes = new Uint8Array(await (await fetch('model.onnx')).arrayBuffer());
  await createSession(bytes);
  $('model').textContent = `${facts.model}: ${facts.family}, ${facts.size}×${facts.size}, ${facts.parameterisation} over ${facts.domain_layers.length} layers; running on ${state.backend}`;
  for (const d of facts.domains) await addDomain(d.name, await fetchBytes(d.url));
  $<HTMLButtonElement>('generate').disabled = false;
  await generate();
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

async function addDomain(name: string, bytes: ArrayBuffer): Promise<void> {
  const vector = readDomainBytes(bytes, name, facts);
  const li = document.createElement('li');
  const strength = Object.assign(document.createElement('input'), { type: 'range', min: '-2', max: '2', step: '0.05', value: '1', className: 'strength' });
  const shown = document.createElement('output');
  shown.textContent = '1';
  strength.addEventListener('input', () => {
    shown.textContent = strength.value;
    void generate();
  });
  const remove = Object.assign(document.createElement('button'), { textContent: 'remove' });
  const domain = { name, vector, strength };
  remove.addEventListener('click', () => {
    domains.splice(domains.indexOf(domain), 1);
    li.remove();
    void generate();
  });
  li.append(`${name} `, strength, ' ', shown, ' ', remove);
  $('domains').append(li);
  domains.push(domain);
}

/** One image for the current controls; calls queue so the last change always shows. */
function generate(): Promise<void> {
  running = running.then(render).catch((err: Error) => status(err.message, true));
  return running;
}

async function render(): Promise<void> {
  const seed = Number($<HTMLInputElement>('seed').value);
  const psi = Number($<HTMLInputElement>('truncation').value);
  const noise = $<HTMLSelectElement>('noise').value as NoiseMode;
  const noiseSeed = Number($<HTMLInputElement>('noise-seed').value);
  $('truncation-value').textContent = String(psi);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new Error(`seed ${$<HTMLInputElement>('seed').value}: seeds go from 0 to 4294967295`);

  const domainSize = facts.domain_layers.reduce((n, l) => n + l.dim, 0);
  const vector = domains.length === 0 ? new Float32Array(domainSize) : mixDomainVectors(domains.map((d) => d.vector), domains.map((d) => Number(d.strength.value)));
  const z = zFromSeeds([seed], facts.zDim);
  const perSample = facts.inputs.filter((i) => !FIXED_INPUTS.has(i.name));
  // const and none feed zeros (the model adds const_noise × its stored maps); random feeds N(0, 1) draws.
  const maps = sampleInputs(perSample.map((i) => ({ name: i.name, shape: i.shape.slice(1) })), 1, noise === 'random' ? 'random' : 'none', noiseSeed);
  const feeds: Record<string, ort.Tensor> = {
    z: new ort.Tensor('float32', z.data, z.shape),
    truncation: new ort.Tensor('float32', Float32Array.of(psi), [1]),
    const_noise: new ort.Tensor('float32', Float32Array.of(noise === 'const' ? 1 : 0), [1]),
  };
  if (facts.inputs.some((i) => i.name === 'domain')) feeds.domain = new ort.Tensor('float32', vector, [domainSize]);
  perSample.forEach((input, k) => (feeds[input.name] = new ort.Tensor('float32', maps[k]!.data, maps[k]!.shape)));

  const started = performance.now();
  const img = (await session.run(feeds)).img!;
  const data = (await img.getData()) as Float32Array;
  const ms = performance.now() - started;
  draw(data, img.dims[2]!, img.dims[3]!);
  state.generations++;
  state.last = { ms, seed };
  status(`seed ${seed}, ψ ${psi}, ${domains.length} domain${domains.length === 1 ? '' : 's'}: ${ms.toFixed(1)} ms on ${state.backend}`);
  $<HTMLButtonElement>('download').disabled = false;
}

function draw(data: Float32Array, h: number, w: number): void {
  const canvas = $<HTMLCanvasElement>('output');
  canvas.width = w;
  canvas.height = h;
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(w, h);
  const plane = h * w;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) pixels.data[p * 4 + c] = pixelByte(data[c * plane + p]!);
    pixels.data[p * 4 + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
}

$('generate').addEventListener('click', () => void generate());
for (const id of ['seed', 'truncation', 'noise', 'noise-seed']) $(id).addEventListener('change', () => void generate());
$('truncation').addEventListener('input', () => ($('truncation-value').textContent = $<HTMLInputElement>('truncation').value));
$<HTMLInputElement>('domain-files').addEventListener('change', async (event) => {
  const input = event.target as HTMLInputElement;
  try {
    for (const file of Array.from(input.files ?? [])) await addDomain(file.name, await file.arrayBuffer());
    input.value = '';
    await generate();
  } catch (err) {
    status((err as Error).message, true);
  }
});
$('add-url').addEventListener('click', async () => {
  const url = $<HTMLInputElement>('domain-url').value.trim();
  try {
    await addDomain(url.split('/').pop() || url, await fetchBytes(url));
    await generate();
  } catch (err) {
    status((err as Error).message, true);
  }
});
$('download').addEventListener('click', () => {
  $<HTMLCanvasElement>('output').toBlob((blob) => {
    if (!blob) return;
    const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: `seed${$<HTMLInputElement>('seed').value.padStart(4, '0')}.png` });
    link.click();
    URL.revokeObjectURL(link.href);
  }, 'image/png');
});

state.ready = start().catch((err: Error) => status(err.message, true));
