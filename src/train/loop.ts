/**
 * The adaptation loop: draw the step's latents and noise (step-draws.ts), run the step graph (losses and d(loss)/d(domain) in ONNX Runtime),
 * update the domain vector with Adam on the host. It stops at the last iteration, when `signal` aborts
 * (after the step under way), or at a non-finite loss or gradient — always returning the last finite
 * vector with its optimiser state, so no work is lost.
 */
import type { SessionOptions } from '../engine/session.js';
import { defaultLossWeights, type LossWeights } from '../losses/registry.js';
import type { ClipWeights } from '../clip/architecture.js';
import type { Generator } from '../generators/generator.js';
import { mixStyles, toWPlus } from '../generators/latents.js';
import { adamInit, adamStep, type AdamState } from './adam.js';
import { seededDraws, type DrawShape, type DrawSource, type StepDraws } from './step-draws.js';
import { createStepRunner, stepPlan, type CallInputs } from './step-runner.js';

export interface AdaptSettings {
  iterations: number;
  batch: number;
  lr: number;
  betas: [number, number];
  /** Style-mixing probability (a second z in that step; each call draws its own crossover). */
  mixing: number;
  seed: number;
  losses: LossWeights;
}

export const DEFAULT_SETTINGS: AdaptSettings = {
  iterations: 300,
  batch: 4,
  lr: 0.1,
  betas: [0.9, 0.999],
  mixing: 0.9,
  seed: 0,
  losses: defaultLossWeights(),
};

export interface AdaptClip {
  weights: ClipWeights;
  /** Weight of this model's losses in the sum. */
  weight: number;
  /** Unit target direction in this model's embedding space. */
  direction: Float32Array;
}

export interface StepReport {
  /** 1-based number of the step just taken. */
  step: number;
  iterations: number;
  loss: number;
  terms: Record<string, number>;
  vector: Float32Array;
  optimizer: AdamState;
  seconds: number;
}

export type StopReason = 'done' | 'interrupted' | 'non-finite';

export interface AdaptResult {
  vector: Float32Array;
  optimizer: AdamState;
  stopped: StopReason;
  /** Loss at each step taken in this run. */
  losses: number[];
  message?: string;
}

export interface AdaptRun {
  settings: AdaptSettings;
  clips: readonly AdaptClip[];
  /** Resume from here (vector and optimiser state); otherwise d = 0. */
  start?: { vector: Float32Array; optimizer: AdamState };
  /** Where each step's latents and noise come from; default: seeded by `settings.seed` and `settings.mixing`. */
  draws?: DrawSource;
  signal?: AbortSignal;
  onStep?: (report: StepReport) => void | Promise<void>;
  session?: SessionOptions;
  /**
   * Samples per graph run; the batch's losses are still computed over the whole batch. Default: the
   * largest divisor of the batch expected to fit in `defaultStepMemory()` (8 GiB, or 70% of RAM if less),
   * or 1 for a family with checkpointed steps (step-runner.ts stepPlan).
   */
  microBatch?: number;
}

export async function adaptDomain(G: Generator, run: AdaptRun): Promise<AdaptResult> {
  const { settings, clips } = run;
  const { microBatch, checkpointed } = stepPlan(G, settings.batch, clips.length, undefined, run.microBatch);
  const step = await createStepRunner({ generator: G, clips, batch: settings.batch, losses: settings.losses, checkpointed }, microBatch, run.session);
  const vector = new Float32Array(run.start?.vector ?? new Float32Array(G.domainSize));
  const optimizer = run.start?.optimizer ?? adamInit(G.domainSize);
  const losses: number[] = [];
  const directions = clips.map((c) => c.direction);
  const draws = run.draws ?? seededDraws(drawShape(G, settings.batch), settings.seed, settings.mixing);
  try {
    while (optimizer.step < settings.iterations) {
      if (run.signal?.aborted) return { vector, optimizer, stopped: 'interrupted', losses };
      const t0 = performance.now();
      const calls = await generatorCalls(G, await draws.draw(optimizer.step));
      const { loss, terms, gradient } = await step.run({ ...calls, vector, directions });
      if (!Number.isFinite(loss) || !gradient.every(Number.isFinite)) {
        return {
          vector, optimizer, stopped: 'non-finite', losses,
          message: `the loss became ${Number.isFinite(loss) ? 'finite but its gradient is not' : loss} at step ${optimizer.step + 1}; kept the vector from step ${optimizer.step}`,
        };
      }
      adamStep(vector, gradient, optimizer, settings);
      losses.push(loss);
      await run.onStep?.({
        step: optimizer.step, iterations: settings.iterations, loss, terms, vector, optimizer,
        seconds: (performance.now() - t0) / 1000,
      });
    }
    return { vector, optimizer, stopped: 'done', losses };
  } finally {
    await step.release();
  }
}

/** The draws a step needs from this generator at this batch. */
export function drawShape(G: Generator, batch: number): DrawShape {
  return { batch, styleDim: G.styleDim, nLatent: G.nLatent, sampleShapes: G.sampleInputs.map((s) => s.shape) };
}

/** Each call's W+ (z, and z2 from its own crossover on) and noise maps. */
async function generatorCalls(G: Generator, d: StepDraws): Promise<{ frozen: CallInputs; adapted: CallInputs }> {
  const w = toWPlus(await G.mapping(d.z), G.nLatent);
  const w2 = d.z2 && toWPlus(await G.mapping(d.z2), G.nLatent);
  const ws = (inject: number) => (w2 ? mixStyles(w, w2, inject) : w);
  return {
    frozen: { ws: ws(d.frozen.inject), samples: d.frozen.noises },
    adapted: { ws: ws(d.adapted.inject), samples: d.adapted.noises },
  };
}
