/**
 * A loaded generator of any family with ONNX Runtime sessions behind it: mapping, synthesis (with the
 * trained vector of its parameterisation as an input; zeros give the original generator) and the
 * vector-Jacobian product of synthesis. Graphs are static in the batch: a call is split into chunks of
 * `batch` (the last one zero-padded), and one session per graph kind is built on first use.
 */
import { mapBatches } from '../engine/batching.js';
import { Graph, type Value } from '../engine/graph.js';
import { grad } from '../engine/grad.js';
import { mul, sumAll } from '../engine/ops.js';
import type { SessionOptions } from '../engine/session.js';
import { SessionCache } from '../engine/session-cache.js';
import { shapeString, type Tensor } from '../core/tensor.js';
import type { Parameterisation, ParameterLayer } from '../parameterisations/parameterisation.js';
import { vectorSize } from '../parameterisations/parameterisation.js';
import { DEFAULT_PARAMETERISATION, parameterisationNamed } from '../parameterisations/registry.js';
import { selectLayers, type LayerSelection } from '../parameterisations/layer-selection.js';
import { RandomState } from '../core/random-state.js';
import type { GeneratorDescription, GeneratorFamily, LayerStage, ModulatedLayer, SampleInput } from './family.js';
import { mixStyles, sampleInputs, toWPlus, truncate, type NoiseMode } from './latents.js';

export interface GeneratorSource {
  /** e.g. `rosinality-pt`, `nvidia-pkl`, `safetensors`. */
  format: string;
  path: string;
  /** sha256 over the generator's weights, in a fixed order (the family's fingerprint). */
  fingerprint: string;
}

export interface SynthesizeOptions {
  /** W [N, D] or W+ [N, nLatent, D]. */
  w: Tensor;
  /** The trained vector; omitted = the original generator. */
  domain?: Float32Array | Tensor;
  noise?: NoiseMode;
  /** Seed of `random` noise. */
  noiseSeed?: number;
  /**
   * Per-sample inputs by name, each [1, ...shape], given to every image in place of `noise` (a
   * projection's optimised noise maps, Projection.noise).
   */
  noiseMaps?: Readonly<Record<string, Tensor>>;
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
  /** How a trained vector enters the generator (parameterisations/registry.ts); default `domain-vector`. */
  parameterisation?: string;
  /** Which of the parameterisation's layers the vector covers (e.g. StyleDomain's no-coarse). Default: all. */
  layers?: LayerSelection;
  /** The family's generation settings by name (`{ rotate: '12' }`), values as typed; see FamilySetting. */
  settings?: Readonly<Record<string, string>>;
}

/** One call of synthesis inside a caller's graph. */
export interface SynthesisInputValues {
  ws: Value;
  samples: readonly Value[];
  /** The trained vector [domainSize]; omitted builds the original generator. */
  vector?: Value;
  /** How each layer's output is made (family.ts LayerStage). */
  stage?: LayerStage;
}

const W_AVG_SAMPLES = 4096;

export class Generator<A = unknown> {
  /** The architecture with the generation settings applied. */
  readonly arch: A;
  readonly batch: number;
  readonly description: GeneratorDescription;
  readonly parameterisation: Parameterisation;
  /** The layers the trained vector covers, in flat order. */
  readonly domainLayers: ParameterLayer[];
  private readonly sessions: SessionCache;
  private estimatedWAvg: Float32Array | undefined;

  constructor(
    readonly family: GeneratorFamily<A>,
    arch: A,
    readonly source: GeneratorSource,
    options: GeneratorOptions = {},
  ) {
    this.arch = configured(family, arch, options.settings ?? {});
    this.batch = options.batch ?? 1;
    this.sessions = new SessionCache(options);
    this.description = family.describe(this.arch);
    this.parameterisation = parameterisationNamed(options.parameterisation ?? DEFAULT_PARAMETERISATION);
    this.domainLayers = selectLayers(this.parameterisation.layers(this.description.layers), options.layers ?? 'all');
  }

  get size(): number {
    return this.description.size;
  }
  /** Width of z and W. */
  get styleDim(): number {
    return this.description.zDim;
  }
  get nLatent(): number {
    return this.description.nLatent;
  }
  get layers(): ModulatedLayer[] {
    return this.description.layers;
  }
  get sampleInputs(): SampleInput[] {
    return this.description.sampleInputs;
  }
  get domainSize(): number {
    return vectorSize(this.domainLayers);
  }

  /** Synthesis appended to a caller's graph (the training step puts the frozen and the adapted call in one). */
  synthesisGraph(g: Graph, { ws, samples, vector, stage }: SynthesisInputValues): Value {
    const hooks = vector ? this.parameterisation.hooks(vector, this.domainLayers) : undefined;
    return this.family.synthesis(g, this.arch, { ws, samples, hooks, stage });
  }

  /** Graph inputs of one synthesis call: ws [batch, L, D] and each per-sample input, under `prefix`. */
  synthesisGraphInputs(g: Graph, batch: number, prefix = ''): { ws: Value; samples: Value[] } {
    return {
      ws: g.input(`${prefix}ws`, [batch, this.nLatent, this.styleDim]),
      samples: this.sampleInputs.map((s) => g.input(`${prefix}${s.name}`, [batch, ...s.shape])),
    };
  }

  /** z [N, D] → W [N, D]. */
  async mapping(z: Tensor): Promise<Tensor> {
    this.checkLatent(z, 'z');
    const session = await this.sessions.get('mapping', () => {
      const g = new Graph('mapping');
      g.output('w', this.family.mapping(g, this.arch, g.input('z', [this.batch, this.styleDim])));
      return g;
    });
    return mapBatches([z], this.batch, async ([zc]) => (await session.run({ z: zc! })).w!);
  }

  /** Mean W for truncation: the checkpoint's, else the mean of 4,096 mapped samples (seed 0). */
  async wAvg(): Promise<Float32Array> {
    if (this.description.wAvg) return this.description.wAvg;
    if (!this.estimatedWAvg) {
      const z = { data: new RandomState(0).randn(W_AVG_SAMPLES * this.styleDim), shape: [W_AVG_SAMPLES, this.styleDim] };
      const w = await this.mapping(z);
      const avg = new Float64Array(this.styleDim);
      for (let i = 0; i < w.data.length; i++) avg[i % this.styleDim]! += w.data[i]!;
      this.estimatedWAvg = Float32Array.from(avg, (s) => s / W_AVG_SAMPLES);
    }
    return this.estimatedWAvg;
  }

  /** z → images, with truncation, style mixing, a trained vector and a noise mode. */
  async generate(opts: GenerateOptions): Promise<Tensor> {
    const psi = opts.truncation ?? 1;
    const { noTruncation, title } = this.description;
    if (psi !== 1 && noTruncation) throw new Error(`truncation ${psi} does not apply to this ${title} generator: ${noTruncation}`);
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
      const inputs = this.synthesisGraphInputs(g, this.batch);
      g.output('img', this.synthesisGraph(g, { ...inputs, vector: g.input('domain', [this.domainSize]) }));
      return g;
    });
    const ws = toWPlus(opts.w, this.nLatent);
    this.checkLatent(ws, 'w');
    const domain = this.domainTensor(opts.domain);
    const samples = this.samplesFor(opts, ws.shape[0]!);
    return mapBatches([ws, ...samples], this.batch, async ([wc, ...sc]) =>
      (await session.run({ ws: wc!, domain, ...this.sampleFeeds(sc) })).img!,
    );
  }

  /**
   * Gradients of sum(synthesize(w, domain) · cotangent) with respect to the trained vector (summed over
   * the batch) and to w (in the shape it was given: W or W+).
   */
  async vjp(opts: SynthesizeOptions, cotangent: Tensor): Promise<{ domain: Float32Array; w: Tensor }> {
    const session = await this.sessions.get('vjp', () => {
      const g = new Graph('synthesis_vjp');
      const inputs = this.synthesisGraphInputs(g, this.batch);
      const vector = g.input('domain', [this.domainSize]);
      const img = this.synthesisGraph(g, { ...inputs, vector });
      const cot = g.input('cotangent', img.shape);
      const [dDomain, dWs] = grad(sumAll(mul(img, cot)), [vector, inputs.ws]);
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
    const samples = this.samplesFor(opts, n);
    const dDomain = new Float32Array(this.domainSize);
    const dWs = await mapBatches([ws, cotangent, ...samples], this.batch, async ([wc, cc, ...sc]) => {
      const r = await session.run({ ws: wc!, cotangent: cc!, domain, ...this.sampleFeeds(sc) });
      r.d_domain!.data.forEach((v, i) => (dDomain[i]! += v));
      return r.d_ws!;
    });
    const dW = opts.w.shape.length === 2 ? sumRows(dWs) : dWs;
    return { domain: dDomain, w: dW };
  }

  async release(): Promise<void> {
    await this.sessions.release();
  }

  private samplesFor(opts: SynthesizeOptions, n: number): Tensor[] {
    const given = opts.noiseMaps;
    if (!given) return sampleInputs(this.sampleInputs, n, opts.noise ?? 'const', opts.noiseSeed);
    return this.sampleInputs.map(({ name, shape }) => {
      const map = given[name];
      if (!map || shapeString(map.shape) !== shapeString([1, ...shape])) {
        throw new Error(`noise map ${name} must be ${shapeString([1, ...shape])}, got ${map ? shapeString(map.shape) : 'none'}`);
      }
      const data = new Float32Array(n * map.data.length);
      for (let i = 0; i < n; i++) data.set(map.data, i * map.data.length);
      return { data, shape: [n, ...shape] };
    });
  }

  private sampleFeeds(samples: Tensor[]): Record<string, Tensor> {
    return Object.fromEntries(samples.map((t, i) => [this.sampleInputs[i]!.name, t]));
  }

  private domainTensor(domain: Float32Array | Tensor | undefined): Tensor {
    const data = domain === undefined ? new Float32Array(this.domainSize) : 'data' in domain ? domain.data : domain;
    if (data.length !== this.domainSize) {
      throw new Error(`domain vector has ${data.length} values; this generator takes ${this.domainSize} (${this.parameterisation.name})`);
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

function configured<A>(family: GeneratorFamily<A>, arch: A, settings: Readonly<Record<string, string>>): A {
  const names = Object.keys(settings);
  if (names.length === 0) return arch;
  const known = new Set((family.settings ?? []).map((s) => s.name));
  const unknown = names.find((n) => !known.has(n));
  if (unknown !== undefined) {
    const offered = known.size > 0 ? `its settings are ${[...known].map((n) => `--${n}`).join(', ')}` : 'it has no generation settings';
    throw new Error(`--${unknown} does not apply to this ${family.describe(arch).title} generator: ${offered}`);
  }
  return family.configure!(arch, settings);
}

/** W+ gradient [N, L, D] → W gradient [N, D] (W feeds every row). */
function sumRows(t: Tensor): Tensor {
  const [n, l, d] = t.shape as [number, number, number];
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let r = 0; r < l; r++) for (let k = 0; k < d; k++) out[i * d + k]! += t.data[(i * l + r) * d + k]!;
  return { data: out, shape: [n, d] };
}
