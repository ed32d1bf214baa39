/**
 * Runs one adaptation step: the fused graph when the whole batch fits in memory, else the micro-batched
 * pipeline of step-graph.ts (embeddings per micro-batch → losses over the batch → VJP per micro-batch).
 * Both give the same loss and gradient up to float rounding.
 */
import { totalmem } from 'node:os';
import { Session, type Feeds, type SessionOptions } from '../engine/session.js';
import { batchSlice } from '../engine/batching.js';
import type { Tensor } from '../core/tensor.js';
import type { Generator } from '../generators/generator.js';
import { activeLosses } from '../losses/registry.js';
import { buildAdaptedVjpGraph, buildEmbeddingGraph, buildLossGraph, buildStepGraph, type StepGraphSpec } from './step-graph.js';

/** One generator call's inputs. */
export interface CallInputs {
  /** W+ [B, L, D] */
  ws: Tensor;
  /** One per per-sample input of the generator (StyleGAN2: a noise map [B, 1, R, R] per conv). */
  samples: Tensor[];
}

export interface StepInputs {
  frozen: CallInputs;
  adapted: CallInputs;
  vector: Float32Array;
  /** Unit target direction per CLIP model. */
  directions: readonly Float32Array[];
}

export interface StepOutputs {
  loss: number;
  terms: Record<string, number>;
  gradient: Float32Array;
}

export interface StepRunner {
  readonly microBatch: number;
  run(inputs: StepInputs): Promise<StepOutputs>;
  release(): Promise<void>;
}

/**
 * The default memory a training step may take: 8 GiB (the FFHQ-1024 batch-4 step then runs in micro-batches
 * of 2, 7.8 GiB measured), or 70% of this machine's memory if that is less. More makes big batches faster.
 */
export function defaultStepMemory(): number {
  return Math.min(8 * 2 ** 30, 0.7 * totalmem());
}

/**
 * The largest divisor of `batch` whose step is expected to fit in `budget` bytes. Measured on FFHQ-1024
 * with one ViT-B/32 (bench/, peak RSS of fused steps at batch 2 and 4): 4.0 GB of weights and runtime,
 * plus 1.8 GB per sample at 1024 px (scaling with the pixel count) and 0.35 GB per sample for CLIP.
 */
export function chooseMicroBatch(batch: number, size: number, clips: number, budget = defaultStepMemory()): number {
  const fixed = 3.3e9 + 0.7e9 * clips;
  const perSample = 1.8e9 * (size / 1024) ** 2 + 0.35e9 * clips;
  for (let m = batch; m > 1; m--) if (batch % m === 0 && fixed + m * perSample <= budget) return m;
  return 1;
}

/**
 * How a step runs: the family's checkpointed steps one sample at a time, else the whole batch or the
 * micro-batch `chooseMicroBatch` picks. A given micro-batch is kept either way.
 */
export function stepPlan(G: Generator, batch: number, clips: number, budget?: number, microBatch?: number): { microBatch: number; checkpointed: boolean } {
  const checkpointed = G.description.checkpointedSteps === true;
  return { microBatch: microBatch ?? (checkpointed ? 1 : chooseMicroBatch(batch, G.size, clips, budget)), checkpointed };
}

function directionFeeds(directions: readonly Float32Array[]): Feeds {
  return Object.fromEntries(directions.map((d, k) => [`direction_${k}`, { data: d, shape: [d.length] }]));
}

/** Feeds only the inputs a session declares (e.g. no directions when the direction loss is off). */
function pick(session: Session, feeds: Feeds): Feeds {
  return Object.fromEntries(session.inputNames.map((n) => [n, feeds[n]!]));
}

export async function createStepRunner(spec: StepGraphSpec, microBatch: number, options: SessionOptions = {}): Promise<StepRunner> {
  if (spec.batch % microBatch !== 0) throw new Error(`the micro-batch ${microBatch} must divide the batch ${spec.batch}`);
  const names = activeLosses(spec.losses).map(({ loss }) => loss.name);
  const sampleNames = spec.generator.sampleInputs.map((s) => s.name);
  /** Rows [start, start + count) of both calls' inputs, and the vector. */
  const latentFeeds = (inputs: StepInputs, start: number, count: number): Feeds => {
    const feeds: Feeds = { domain: { data: inputs.vector, shape: [inputs.vector.length] } };
    for (const call of ['frozen', 'adapted'] as const) {
      feeds[`${call}_ws`] = batchSlice(inputs[call].ws, start, count, count);
      inputs[call].samples.forEach((t, i) => (feeds[`${call}_${sampleNames[i]}`] = batchSlice(t, start, count, count)));
    }
    return feeds;
  };
  // The peak of a training graph is its whole forward+backward: an arena would keep that peak forever.
  const sessionOptions = { ...options, memoryArena: false };
  if (microBatch === spec.batch && !spec.checkpointed) {
    const session = await Session.fromGraph(buildStepGraph(spec), sessionOptions);
    return {
      microBatch,
      async run(inputs) {
        const out = await session.run(pick(session, { ...latentFeeds(inputs, 0, spec.batch), ...directionFeeds(inputs.directions) }));
        const terms = Object.fromEntries(names.map((n) => [n, out[n]!.data[0]!]));
        return { loss: out.loss!.data[0]!, terms, gradient: out.grad_domain!.data };
      },
      release: () => session.release(),
    };
  }

  const micro = { ...spec, batch: microBatch };
  const embedSessions: Session[] = [];
  for (const calls of spec.checkpointed ? [['frozen'], ['adapted']] as const : [['frozen', 'adapted']] as const) {
    embedSessions.push(await Session.fromGraph(buildEmbeddingGraph(micro, calls), sessionOptions));
  }
  const lossSession = await Session.fromGraph(buildLossGraph(spec), sessionOptions);
  const vjpSession = await Session.fromGraph(buildAdaptedVjpGraph(micro, spec.batch), sessionOptions);
  const chunks = Array.from({ length: spec.batch / microBatch }, (_, i) => i * microBatch);
  /** Micro-batch rows [m, E] → batch rows [B, E]. */
  const rowsOf = (parts: Tensor[]): Tensor => {
    const width = parts[0]!.shape[1]!;
    const data = new Float32Array(spec.batch * width);
    parts.forEach((p, i) => data.set(p.data, i * microBatch * width));
    return { data, shape: [spec.batch, width] };
  };
  return {
    microBatch,
    async run(inputs) {
      const embedded: Array<Record<string, Tensor>> = [];
      for (const start of chunks) {
        const feeds = latentFeeds(inputs, start, microBatch);
        const outputs: Record<string, Tensor> = {};
        for (const session of embedSessions) Object.assign(outputs, await session.run(pick(session, feeds)));
        embedded.push(outputs);
      }
      const embeddingFeeds: Feeds = {};
      spec.clips.forEach((_, k) => {
        embeddingFeeds[`frozen_${k}`] = rowsOf(embedded.map((e) => e[`frozen_${k}`]!));
        embeddingFeeds[`adapted_${k}`] = rowsOf(embedded.map((e) => e[`adapted_${k}`]!));
      });
      const domainFeed = { domain: { data: inputs.vector, shape: [inputs.vector.length] } };
      const lossOut = await lossSession.run(pick(lossSession, { ...embeddingFeeds, ...domainFeed, ...directionFeeds(inputs.directions) }));
      const gradient = new Float32Array(lossOut.grad_domain!.data);
      const terms = Object.fromEntries(names.filter((n) => lossOut[n]).map((n) => [n, lossOut[n]!.data[0]!]));
      let loss = lossOut.loss!.data[0]!;
      for (const start of chunks) {
        const cotangents = Object.fromEntries(spec.clips.map((_, k) => [`cot_adapted_${k}`, batchSlice(lossOut[`cot_adapted_${k}`]!, start, microBatch, microBatch)]));
        const stored = embedded[start / microBatch]!;
        const out = await vjpSession.run(pick(vjpSession, { ...latentFeeds(inputs, start, microBatch), ...cotangents, ...stored }));
        out.grad_domain!.data.forEach((v, i) => (gradient[i]! += v));
        // Each micro-batch's share of the image losses.
        if (out.loss) loss += out.loss.data[0]!;
        for (const n of names) if (out[n]) terms[n] = (terms[n] ?? 0) + out[n]!.data[0]!;
      }
      return { loss, terms, gradient };
    },
    async release() {
      await Promise.all([...embedSessions, lossSession, vjpSession].map((s) => s.release()));
    },
  };
}
