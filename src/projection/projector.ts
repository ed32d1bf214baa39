/**
 * Projection of an image into a generator's W, as NVIDIA's stylegan2-ada-pytorch projector.py does it:
 * start at w_avg, optimise one W (broadcast to every W+ row) and the noise maps with Adam, the learning
 * rate ramped up over the first 5% and down (cosine) over the last 25%, W perturbed by noise that fades
 * over the first 75%, the noise maps' autocorrelation penalised at every scale and the maps re-normalised
 * after each step. The distance is LPIPS-VGG16 as PerceptualSimilarity defines it (perceptual/lpips.ts)
 * where projector.py uses NVIDIA's TorchScript port of it; images above 256 px are area-downsampled to 256
 * first, as there.
 */
import type { Tensor } from '../core/tensor.js';
import { RandomState } from '../core/random-state.js';
import { Graph, type Value } from '../engine/graph.js';
import { grad } from '../engine/grad.js';
import { add, concat, mul, reduceMean, reshape, slice, square, sumAll } from '../engine/ops.js';
import { Session, type SessionOptions } from '../engine/session.js';
import type { Generator } from '../generators/generator.js';
import { lpipsDistance, lpipsFeatures, type LpipsWeights } from '../perceptual/lpips.js';
import { adamInit, adamStep } from '../train/adam.js';

export interface ProjectSettings {
  steps: number;
  wAvgSamples: number;
  initialLearningRate: number;
  initialNoiseFactor: number;
  lrRampdownLength: number;
  lrRampupLength: number;
  noiseRampLength: number;
  regularizeNoiseWeight: number;
}

/** projector.py's defaults. */
export const PROJECT_DEFAULTS: ProjectSettings = {
  steps: 1000,
  wAvgSamples: 10000,
  initialLearningRate: 0.1,
  initialNoiseFactor: 0.05,
  lrRampdownLength: 0.25,
  lrRampupLength: 0.05,
  noiseRampLength: 0.75,
  regularizeNoiseWeight: 1e5,
};

export interface ProjectStep {
  step: number;
  steps: number;
  /** LPIPS to the target. */
  dist: number;
  /** dist + the weighted noise regulariser. */
  loss: number;
  /** W after this step [D]. */
  w: Float32Array;
}

export interface ProjectOptions extends Partial<ProjectSettings> {
  /** Seed of the noise maps' start and of the W perturbation (projector.py draws both from torch's RNG). */
  seed?: number;
  onStep?: (report: ProjectStep) => void;
  session?: SessionOptions;
}

export interface Projection {
  /** The projected W repeated over the rows: W+ [1, L, D], as projector.py returns it. */
  ws: Tensor;
  /** LPIPS of the last step. */
  dist: number;
  /** The last step's image [1, 3, S, S] (its W and optimised noise maps): what the optimisation fitted. */
  image: Tensor;
  /** The optimised noise maps, by sample-input name. */
  noise: Record<string, Tensor>;
}

/** z from RandomState(123), as projector.py: mean W and the scalar spread of W around it. */
async function wStatistics(G: Generator, samples: number): Promise<{ wAvg: Float32Array; wStd: number }> {
  const d = G.styleDim;
  const w = await G.mapping({ data: new RandomState(123).randn(samples * d), shape: [samples, d] });
  const avg = new Float64Array(d);
  for (let i = 0; i < w.data.length; i++) avg[i % d]! += w.data[i]!;
  const wAvg = Float32Array.from(avg, (s) => s / samples);
  let sq = 0;
  for (let i = 0; i < w.data.length; i++) sq += (w.data[i]! - wAvg[i % d]!) ** 2;
  return { wAvg, wStd: Math.sqrt(sq / samples) };
}

/** x [1, 3, S, S] → [1, 3, 256, 256] by averaging k×k blocks (F.interpolate mode 'area' for S = 256k). */
function areaTo256(x: Value): Value {
  const s = x.shape[2]!;
  if (s <= 256) return x;
  if (s % 256 !== 0) throw new Error(`projection: images of ${s} px are not a multiple of 256`);
  const k = s / 256;
  return reshape(reduceMean(reshape(x, [x.shape[0]!, 3, 256, k, 256, k]), [3, 5]), [x.shape[0]!, 3, 256, 256]);
}

/** torch.roll(v, 1, axis) */
function roll1(v: Value, axis: number): Value {
  const n = v.shape[axis]!;
  return concat([slice(v, axis, n - 1, n), slice(v, axis, 0, n - 1)], axis);
}

/** projector.py's noise regulariser: squared autocorrelation at shift 1 along x and y, at every scale down to 8 px. */
function noiseRegulariser(noises: readonly Value[]): Value {
  let reg: Value | undefined;
  for (const n of noises) {
    let v = reshape(n, [1, 1, n.shape[n.shape.length - 2]!, n.shape[n.shape.length - 1]!]);
    for (;;) {
      for (const axis of [3, 2]) {
        const term = square(reduceMean(mul(v, roll1(v, axis)), [0, 1, 2, 3]));
        reg = reg ? add(reg, term) : term;
      }
      const h = v.shape[2]!;
      if (h <= 8) break;
      v = reduceMean(reshape(v, [1, 1, h / 2, 2, v.shape[3]! / 2, 2]), [3, 5]); // avg_pool2d(kernel 2)
    }
  }
  return reg!;
}

/** Projects `target` ([1, 3, S, S] in [-1, 1], S the generator's size) into W. */
export async function project(G: Generator, target: Tensor, lpips: LpipsWeights, options: ProjectOptions = {}): Promise<Projection> {
  const s: ProjectSettings = { ...PROJECT_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const size = G.size;
  if (target.shape.join() !== [1, 3, size, size].join()) throw new Error(`projection target must be [1, 3, ${size}, ${size}], got [${target.shape.join(', ')}]`);
  const { wAvg, wStd } = await wStatistics(G, s.wAvgSamples);

  // Target features, once.
  const tg = new Graph('lpips_target');
  const tFeatures = lpipsFeatures(tg, lpips, areaTo256(tg.input('img', target.shape)));
  tFeatures.forEach((f, i) => tg.output(`f${i}`, f));
  const targetSession = await Session.fromGraph(tg, options.session);
  const targetFeeds = await targetSession.run({ img: target });
  await targetSession.release();

  // One step: synthesis with the given noise maps, LPIPS to the target, the regulariser, and gradients.
  const g = new Graph('projection_step');
  const inputs = G.synthesisGraphInputs(g, 1);
  const featureInputs = tFeatures.map((f, i) => g.input(`f${i}`, f.shape));
  const synth = G.synthesisGraph(g, inputs);
  const dist = sumAll(lpipsDistance(g, lpips, lpipsFeatures(g, lpips, areaTo256(synth)), featureInputs));
  const loss = add(dist, mul(noiseRegulariser(inputs.samples), s.regularizeNoiseWeight));
  const [dWs, ...dNoise] = grad(loss, [inputs.ws, ...inputs.samples]);
  g.output('dist', dist);
  g.output('loss', loss);
  g.output('d_ws', dWs!);
  g.output('img', synth);
  dNoise.forEach((d, i) => g.output(`d_${G.sampleInputs[i]!.name}`, d!));
  const session = await Session.fromGraph(g, options.session);

  try {
    const rng = new RandomState(options.seed ?? 0);
    const d = G.styleDim;
    const L = G.nLatent;
    const w = Float32Array.from(wAvg);
    const noises = G.sampleInputs.map((si) => ({ name: si.name, shape: [1, ...si.shape], data: rng.randn(si.shape.reduce((a, b) => a * b, 1)) }));
    const params = [w, ...noises.map((n) => n.data)];
    const states = params.map((p) => adamInit(p.length));
    let last = { dist: NaN, loss: NaN };
    let image: Tensor | undefined;
    for (let step = 0; step < s.steps; step++) {
      const t = step / s.steps;
      const wNoiseScale = wStd * s.initialNoiseFactor * Math.max(0, 1 - t / s.noiseRampLength) ** 2;
      let lrRamp = Math.min(1, (1 - t) / s.lrRampdownLength);
      lrRamp = 0.5 - 0.5 * Math.cos(lrRamp * Math.PI);
      lrRamp *= Math.min(1, t / s.lrRampupLength);
      const lr = s.initialLearningRate * lrRamp;

      const wNoise = rng.randn(d);
      const ws = new Float32Array(L * d);
      for (let l = 0; l < L; l++) for (let k = 0; k < d; k++) ws[l * d + k] = w[k]! + wNoise[k]! * wNoiseScale;
      const feeds: Record<string, Tensor> = { ws: { data: ws, shape: [1, L, d] } };
      for (const n of noises) feeds[n.name] = { data: n.data, shape: n.shape };
      tFeatures.forEach((_, i) => (feeds[`f${i}`] = targetFeeds[`f${i}`]!));
      const r = await session.run(feeds);

      // W feeds every row: its gradient is the sum over rows.
      const gw = new Float32Array(d);
      const gws = r.d_ws!.data;
      for (let l = 0; l < L; l++) for (let k = 0; k < d; k++) gw[k]! += gws[l * d + k]!;
      const grads = [gw, ...noises.map((n) => r[`d_${n.name}`]!.data)];
      params.forEach((p, i) => adamStep(p, grads[i]!, states[i]!, { lr, betas: [0.9, 0.999] }));
      for (const n of noises) normalise(n.data);

      last = { dist: r.dist!.data[0]!, loss: r.loss!.data[0]! };
      image = r.img!;
      options.onStep?.({ step: step + 1, steps: s.steps, ...last, w: Float32Array.from(w) });
    }
    const out = new Float32Array(L * d);
    for (let l = 0; l < L; l++) out.set(w, l * d);
    const noise = Object.fromEntries(noises.map((n) => [n.name, { data: n.data, shape: n.shape }]));
    return { ws: { data: out, shape: [1, L, d] }, dist: last.dist, image: image!, noise };
  } finally {
    await session.release();
  }
}

/** buf -= mean; buf *= rsqrt(mean(buf²)) */
function normalise(buf: Float32Array): void {
  let mean = 0;
  for (const v of buf) mean += v;
  mean /= buf.length;
  let sq = 0;
  for (let i = 0; i < buf.length; i++) {
    buf[i] = buf[i]! - mean;
    sq += buf[i]! * buf[i]!;
  }
  const scale = 1 / Math.sqrt(sq / buf.length);
  for (let i = 0; i < buf.length; i++) buf[i] = buf[i]! * scale;
}
