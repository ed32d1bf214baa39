/**
 * A loaded StyleGAN2 generator with ONNX Runtime sessions behind it: mapping, synthesis (with a
 * domain-vector input; zeros give the original generator) and the vector-Jacobian product of synthesis.
 * Graphs are static in the batch: a call is split into chunks of `batch` (the last one zero-padded),
 * and one session per graph kind is built on first use.
 */
import { mapBatches } from '../../engine/batching.js';
import { Graph } from '../../engine/graph.js';
import { grad } from '../../engine/grad.js';
import { mul, sumAll } from '../../engine/ops.js';
import type { SessionOptions } from '../../engine/session.js';
import { SessionCache } from '../../engine/session-cache.js';
import { shapeString, type Tensor } from '../../engine/tensor.js';
import { domainLayers, domainSize, type DomainLayer } from '../../adapters/domain-vector.js';
import type { StyleGAN2 } from './architecture.js';
import { mappingNetwork, synthesisNetwork } from './graph.js';
import { RandomState } from '../../random/random-state.js';
import { mixStyles, noiseInputs, toWPlus, truncate, type NoiseMode } from './latents.js';

export interface GeneratorSource {
  /** e.g. `rosinality-pt`, `nvidia-pkl`, `safetensors`. */
  format: string;
  path: string;
  /** sha256 over the generator's weights, in synthesis order (see fingerprint.ts). */
  fingerprint: string;
}

export interface SynthesizeOptions {
  /** W [N, D] or W+ [N, nLatent, D]. */
  w: Tensor;
  /** Flat domain vector; omitted = the original domain. */
  domain?: Float32Array | Tensor;
  noise?: NoiseMode;
  /** Seed of `random` noise. */
  noiseSeed?: number;
}

export interface GenerateOptions {
  z: Tensor;
  truncation?: number;
  /** Style mixing: rows [mixIndex, nLatent) come from this second z. */
  mixZ?: Tensor;
  mixIndex?: number;
  domain?: Float32Array | Tensor;
  noise?: NoiseMode;
  noiseSeed?: number;
}

export interface GeneratorOptions extends SessionOptions {
  /** Images per session run. */
  batch?: number;
}

const W_AVG_SAMPLES = 4096;

export class Generator {
  readonly batch: number;
  private readonly sessions: SessionCache;
  private estimatedWAvg: Float32Array | undefined;

  constructor(
    readonly arch: StyleGAN2,
    readonly source: GeneratorSource,
    options: GeneratorOptions = {},
  ) {
    this.batch = options.batch ?? 1;
    this.sessions = new SessionCache(options);
  }

  get size(): number {
    return this.arch.size;
  }
  get styleDim(): number {
    return this.arch.styleDim;
  }
  get nLatent(): number {
    return this.arch.nLatent;
  }
  get domainSize(): number {
    return domainSize(this.arch);
  }
  get domainLayers(): DomainLayer[] {
    return domainLayers(this.arch);
  }

  /** z [N, D] → W [N, D]. */
  async mapping(z: Tensor): Promise<Tensor> {
    this.checkLatent(z, 'z');
    const session = await this.sessions.get('mapping', () => {
      const g = new Graph('mapping');
      g.output('w', mappingNetwork(g, this.arch, g.input('z', [this.batch, this.styleDim])));
      return g;
    });
    return mapBatches([z], this.batch, async ([zc]) => (await session.run({ z: zc! })).w!);
  }

  /** Mean W for truncation: the checkpoint's, else the mean of 4,096 mapped samples (seed 0). */
  async wAvg(): Promise<Float32Array> {
    if (this.arch.wAvg) return this.arch.wAvg;
    if (!this.estimatedWAvg) {
      const z = { data: new RandomState(0).randn(W_AVG_SAMPLES * this.styleDim), shape: [W_AVG_SAMPLES, this.styleDim] };
      const w = await this.mapping(z);
      const avg = new Float64Array(this.styleDim);
      for (let i = 0; i < w.data.length; i++) avg[i % this.styleDim]! += w.data[i]!;
      this.estimatedWAvg = Float32Array.from(avg, (s) => s / W_AVG_SAMPLES);
    }
    return this.estimatedWAvg;
  }

  /** z → images, with truncation, style mixing, a domain vector and a noise mode. */
  async generate(opts: GenerateOptions): Promise<Tensor> {
    const psi = opts.truncation ?? 1;
    const wAvg = psi === 1 ? undefined : await this.wAvg();
    const wPlus = async (z: Tensor) => {
      const w = toWPlus(await this.mapping(z), this.nLatent);
      return wAvg ? truncate(w, wAvg, psi) : w;
    };
    let ws = await wPlus(opts.z);
    if (opts.mixZ) ws = mixStyles(ws, await wPlus(opts.mixZ), opts.mixIndex ?? this.nLatent);
    return this.synthesize({ w: ws, domain: opts.domain, noise: opts.noise, noiseSeed: opts.noiseSeed });
  }

  /** W or W+ → images [N, 3, size, size] in [-1, 1] (not clamped). */
  async synthesize(opts: SynthesizeOptions): Promise<Tensor> {
    const session = await this.sessions.get('synthesis', () => {
      const g = new Graph('synthesis');
      g.output('img', synthesisNetwork(g, this.arch, this.synthesisInputs(g)));
      return g;
    });
    const ws = toWPlus(opts.w, this.nLatent);
    this.checkLatent(ws, 'w');
    const domain = this.domainTensor(opts.domain);
    const noises = noiseInputs(this.arch.convs, ws.shape[0]!, opts.noise ?? 'const', opts.noiseSeed);
    return mapBatches([ws, ...noises], this.batch, async ([wc, ...nc]) =>
      (await session.run({ ws: wc!, domain, ...noiseFeeds(nc) })).img!,
    );
  }

  /**
   * Gradients of sum(synthesize(w, domain) · cotangent) with respect to the domain vector (summed over
   * the batch) and to w (in the shape it was given: W or W+).
   */
  async vjp(opts: SynthesizeOptions, cotangent: Tensor): Promise<{ domain: Float32Array; w: Tensor }> {
    const session = await this.sessions.get('vjp', () => {
      const g = new Graph('synthesis_vjp');
      const inputs = this.synthesisInputs(g);
      const img = synthesisNetwork(g, this.arch, inputs);
      const cot = g.input('cotangent', img.shape);
      const [dDomain, dWs] = grad(sumAll(mul(img, cot)), [inputs.domain!, inputs.ws]);
      g.output('d_domain', dDomain!);
      g.output('d_ws', dWs!);
      return g;
    });
    const ws = toWPlus(opts.w, this.nLatent);
    this.checkLatent(ws, 'w');
    const n = ws.shape[0]!;
    const imgShape = [n, 3, this.size, this.size];
    if (shapeString(cotangent.shape) !== shapeString(imgShape)) {
      throw new Error(`cotangent must have the images' shape ${shapeString(imgShape)}, got ${shapeString(cotangent.shape)}`);
    }
    const domain = this.domainTensor(opts.domain);
    const noises = noiseInputs(this.arch.convs, n, opts.noise ?? 'const', opts.noiseSeed);
    const dDomain = new Float32Array(this.domainSize);
    const dWs = await mapBatches([ws, cotangent, ...noises], this.batch, async ([wc, cc, ...nc]) => {
      const r = await session.run({ ws: wc!, cotangent: cc!, domain, ...noiseFeeds(nc) });
      r.d_domain!.data.forEach((v, i) => (dDomain[i]! += v));
      return r.d_ws!;
    });
    const dW = opts.w.shape.length === 2 ? sumRows(dWs) : dWs;
    return { domain: dDomain, w: dW };
  }

  async release(): Promise<void> {
    await this.sessions.release();
  }

  private synthesisInputs(g: Graph) {
    return {
      ws: g.input('ws', [this.batch, this.nLatent, this.styleDim]),
      domain: g.input('domain', [this.domainSize]),
      noises: this.arch.convs.map((c, i) => g.input(`noise_${i}`, [this.batch, 1, c.resolution, c.resolution])),
    };
  }


  private domainTensor(domain: Float32Array | Tensor | undefined): Tensor {
    const data = domain === undefined ? new Float32Array(this.domainSize) : 'data' in domain ? domain.data : domain;
    if (data.length !== this.domainSize) {
      throw new Error(`domain vector has ${data.length} values; this generator takes ${this.domainSize}`);
    }
    return { data, shape: [this.domainSize] };
  }

  private checkLatent(t: Tensor, what: string): void {
    const d = t.shape[t.shape.length - 1];
    if (d !== this.styleDim || (t.shape.length !== 2 && t.shape.length !== 3)) {
      throw new Error(`${what} must be [N, ${this.styleDim}]${what === 'w' ? ` or [N, ${this.nLatent}, ${this.styleDim}]` : ''}, got ${shapeString(t.shape)}`);
    }
  }
}

function noiseFeeds(noises: Tensor[]): Record<string, Tensor> {
  return Object.fromEntries(noises.map((t, i) => [`noise_${i}`, t]));
}

/** W+ gradient [N, L, D] → W gradient [N, D] (W feeds every row). */
function sumRows(t: Tensor): Tensor {
  const [n, l, d] = t.shape as [number, number, number];
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let r = 0; r < l; r++) for (let k = 0; k < d; k++) out[i * d + k]! += t.data[(i * l + r) * d + k]!;
  return { data: out, shape: [n, d] };
}
