/**
 * A run's random draws as a file, in the layout of ../shared/goldens/hdn-traj-a/replay.npz, so a ganvec
 * run can be replayed through HyperDomainNet's own trainer in Python and a reference run replayed here,
 * step for step. Per step t (0-based):
 *   t{t}_z [B, D] float32, t{t}_z2 [B, D] (only in steps that mix styles),
 *   t{t}_a_inject, t{t}_b_inject  int64 scalars: the frozen (a) and adapted (b) call's crossover,
 *   t{t}_a_noise{i}, t{t}_b_noise{i} [B, 1, R, R]: each call's noise map of styled conv i.
 */
import { shapeString, type Tensor, type TensorData } from '../core/tensor.js';
import { CheckpointError } from '../io/errors.js';
import { NpzWriter, readNpz } from '../io/npz.js';
import type { CallDraws, DrawShape, DrawSource, StepDraws } from './step-draws.js';

const CALLS = { frozen: 'a', adapted: 'b' } as const;

/** Draws read from `path`, checked against the generator and batch before training starts. */
export function replayDraws(path: string, shape: DrawShape, steps: number): DrawSource {
  const arrays = readNpz(path);
  const fail = (problem: string) => new CheckpointError(path, problem);
  const available = countSteps(arrays);
  if (available < steps) throw fail(`holds the draws of ${available} steps; the run needs ${steps}`);

  const floats = (key: string, expected: number[]): Tensor => {
    const t = arrays.get(key);
    if (!t) throw fail(`${key} is missing`);
    if (!(t.data instanceof Float32Array)) throw fail(`${key} must be float32`);
    if (shapeString(t.shape) !== shapeString(expected)) {
      throw fail(`${key} is ${shapeString(t.shape)}; this generator and batch need ${shapeString(expected)}`);
    }
    return t as Tensor;
  };
  const draws: StepDraws[] = [];
  for (let t = 0; t < steps; t++) {
    const latent = [shape.batch, shape.styleDim];
    const z = floats(`t${t}_z`, latent);
    const z2 = arrays.has(`t${t}_z2`) ? floats(`t${t}_z2`, latent) : undefined;
    const call = (c: 'a' | 'b'): CallDraws => {
      const key = `t${t}_${c}_inject`;
      const inject = integerScalar(arrays.get(key));
      const most = z2 ? shape.nLatent - 1 : shape.nLatent;
      const least = z2 ? 1 : shape.nLatent;
      if (inject === undefined || inject < least || inject > most) {
        throw fail(`${key} must be an integer scalar in [${least}, ${most}]${z2 ? '' : ' (this step does not mix styles)'}`);
      }
      const noises = shape.sampleShapes.map((s, i) => floats(`t${t}_${c}_noise${i}`, [shape.batch, ...s]));
      return { inject, noises };
    };
    draws.push({ z, z2, frozen: call(CALLS.frozen), adapted: call(CALLS.adapted) });
  }
  return { draw: (step) => draws[step]! };
}

function countSteps(arrays: Map<string, unknown>): number {
  let t = 0;
  while (arrays.has(`t${t}_z`)) t++;
  return t;
}

function integerScalar(t: Tensor<TensorData> | undefined): number | undefined {
  if (!t || t.data.length !== 1 || t.shape.length > 1 || t.data instanceof Float32Array) return undefined;
  return Number(t.data[0]);
}

/** Passes `source`'s draws through and writes each step's to `path` (complete once `close` is called). */
export class DrawRecorder implements DrawSource {
  private readonly writer: NpzWriter;
  private next = 0;

  constructor(private readonly source: DrawSource, path: string) {
    this.writer = new NpzWriter(path);
  }

  async draw(step: number): Promise<StepDraws> {
    if (step !== this.next) throw new Error(`draws are recorded in order: step ${step} came after step ${this.next - 1}`);
    const d = await this.source.draw(step);
    this.writer.add(`t${step}_z`, d.z);
    if (d.z2) this.writer.add(`t${step}_z2`, d.z2);
    for (const [which, c] of Object.entries(CALLS) as Array<[keyof typeof CALLS, string]>) {
      this.writer.add(`t${step}_${c}_inject`, { data: BigInt64Array.of(BigInt(d[which].inject)), shape: [] });
      d[which].noises.forEach((noise, i) => this.writer.add(`t${step}_${c}_noise${i}`, noise));
    }
    this.next++;
    return d;
  }

  close(): void {
    this.writer.close();
  }

  abandon(): void {
    this.writer.abandon();
  }
}
