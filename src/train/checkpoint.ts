/**
 * What a run leaves on disk: the domain file (the product, to share) and beside it
 * `<out>.state.safetensors`, the run state: the vector, Adam's moments, the step and the settings it
 * belongs to. The state file alone is a complete checkpoint, and it is written before the domain file, so
 * a kill between the two writes leaves a state one step ahead of the domain file, never behind it:
 * `--resume` continues from the state file's vector and is exact either way. Both writes are atomic.
 */
import { existsSync } from 'node:fs';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { AdamState } from './adam.js';

export interface RunState {
  vector: Float32Array;
  optimizer: AdamState;
}

export function statePath(domainPath: string): string {
  return `${domainPath.replace(/\.dv\.safetensors$|\.safetensors$/, '')}.state.safetensors`;
}

/** `run` identifies the settings; resuming with different ones would not be the same run. */
export async function writeRunState(domainPath: string, { vector, optimizer }: RunState, run: Record<string, string>): Promise<void> {
  await writeSafetensors(
    statePath(domainPath),
    {
      vector: { data: vector, shape: [vector.length] },
      adam_m: { data: optimizer.m, shape: [optimizer.m.length] },
      adam_v: { data: optimizer.v, shape: [optimizer.v.length] },
    },
    { ...run, step: String(optimizer.step) },
  );
}

export async function readRunState(domainPath: string): Promise<RunState & { run: Record<string, string> }> {
  const path = statePath(domainPath);
  if (!existsSync(path)) throw new Error(`cannot resume: ${path} (the run state saved beside ${domainPath}) is missing`);
  const { tensors, metadata = {} } = await readSafetensors(path);
  const vector = tensors.get('vector')?.data;
  const m = tensors.get('adam_m')?.data;
  const v = tensors.get('adam_v')?.data;
  const step = Number(metadata.step);
  const floats = [vector, m, v].every((t) => t instanceof Float32Array && t.length === vector?.length);
  if (!floats || !Number.isInteger(step) || step < 0) {
    throw new Error(`cannot resume: ${path} is not a ganvec run state (it needs vector, adam_m and adam_v of one length and a step)`);
  }
  const { step: _step, ...run } = metadata;
  return { vector: vector as Float32Array, optimizer: { m: m as Float32Array, v: v as Float32Array, step }, run };
}
