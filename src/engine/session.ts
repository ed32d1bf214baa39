/**
 * ONNX Runtime sessions: build once from a Graph, run many times with host tensors.
 * The CUDA execution provider is used when asked for and installed; otherwise CPU.
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Graph } from './graph.js';
import { toOnnx } from './onnx.js';
import type { Tensor, TensorData } from '../core/tensor.js';
import { warn } from '../core/warnings.js';

export type Device = 'cpu' | 'cuda';

export interface SessionOptions {
  /** Intra-op threads; default: every core. */
  threads?: number;
  device?: Device;
  /**
   * Keep ONNX Runtime's memory arena (default true): faster reuse for repeated inference, but it holds
   * on to its peak. Training graphs, whose peak is the whole forward+backward, turn it off (−25% RSS).
   */
  memoryArena?: boolean;
}

export type Feeds = Record<string, Tensor<TensorData>>;

export class Session {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    readonly device: Device,
  ) {}

  static async fromGraph(graph: Graph, options: SessionOptions = {}): Promise<Session> {
    return Session.fromBytes(toOnnx(graph), options);
  }

  static async fromBytes(model: Uint8Array, options: SessionOptions = {}): Promise<Session> {
    const base: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      enableCpuMemArena: options.memoryArena ?? true,
      enableMemPattern: options.memoryArena ?? true,
      // `npm run bench -- --profile` sets this: ORT writes a per-node timing file for every session.
      ...(process.env.GANVEC_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: process.env.GANVEC_ORT_PROFILE } : {}),
    };
    if (options.device === 'cuda' && !cudaUnavailable) {
      try {
        // A missing provider is reported once, below, not by ORT's native logger. That logger is set up with
        // the process's first session, so asking for CUDA makes ORT fatal-only for the whole process.
        ort.env.logLevel = 'fatal';
        const s = await ort.InferenceSession.create(model, { ...base, logSeverityLevel: 4, executionProviders: ['cuda', 'cpu'] });
        return new Session(s, s.inputNames, s.outputNames, 'cuda');
      } catch (err) {
        cudaUnavailable = true;
        const reason = (err as Error).message.split('\n')[0];
        warn(
          `CUDA is not available (${reason}); running on the CPU, with the same results. onnxruntime-node's CUDA 12 ` +
            'provider comes from its install script, which this package skips: run it with ' +
            '`ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node node_modules/onnxruntime-node/script/install.js`.',
        );
      }
    }
    const s = await ort.InferenceSession.create(model, { ...base, executionProviders: ['cpu'] });
    return new Session(s, s.inputNames, s.outputNames, 'cpu');
  }

  async run(feeds: Feeds): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const t = feeds[name];
      if (!t) throw new Error(`session input "${name}" was not given`);
      ortFeeds[name] = toOrt(t);
    }
    const results = await this.session.run(ortFeeds);
    const out: Record<string, Tensor> = {};
    for (const name of this.outputNames) {
      const r = results[name]!;
      out[name] = { data: r.data as Float32Array, shape: [...r.dims] };
    }
    return out;
  }

  async release(): Promise<void> {
    if (process.env.GANVEC_ORT_PROFILE) this.session.endProfiling();
    await this.session.release();
  }
}

/** Set after the first failed attempt, so later sessions go straight to the CPU. */
let cudaUnavailable = false;

function toOrt(t: Tensor<TensorData>): ort.Tensor {
  if (t.data instanceof Float32Array) return new ort.Tensor('float32', t.data, t.shape);
  if (t.data instanceof BigInt64Array) return new ort.Tensor('int64', t.data, t.shape);
  if (t.data instanceof Uint8Array) return new ort.Tensor('bool', t.data, t.shape);
  throw new Error('session inputs must be float32, int64 or bool');
}
