/**
 * What a run leaves on disk: the domain file (the product) and beside it `<out>.state.safetensors`, the
 * optimiser state and the settings it belongs to, so `--resume` continues the same run bit for bit.
 * Both are written atomically: an interrupted write never replaces a good file with a broken one.
 */
import { existsSync } from 'node:fs';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { AdamState } from './adam.js';

export function statePath(domainPath: string): string {
  return `${domainPath.replace(/\.dv\.safetensors$|\.safetensors$/, '')}.state.safetensors`;
}

/** `run` identifies the settings; resuming with different ones would not be the same run. */
export async function writeOptimizerState(domainPath: string, state: AdamState, run: Record<string, string>): Promise<void> {
  await writeSafetensors(
    statePath(domainPath),
    { adam_m: { data: state.m, shape: [state.m.length] }, adam_v: { data: state.v, shape: [state.v.length] } },
    { ...run, step: String(state.step) },
  );
}

export async function readOptimizerState(domainPath: string): Promise<{ state: AdamState; run: Record<string, string> }> {
  const path = statePath(domainPath);
  if (!existsSync(path)) throw new Error(`cannot resume: ${path} (the optimiser state saved beside ${domainPath}) is missing`);
  const { tensors, metadata = {} } = await readSafetensors(path);
  const m = tensors.get('adam_m')?.data;
  const v = tensors.get('adam_v')?.data;
  const step = Number(metadata.step);
  if (!(m instanceof Float32Array) || !(v instanceof Float32Array) || !Number.isInteger(step)) {
    throw new Error(`cannot resume: ${path} is not a ganvec optimiser state`);
  }
  const { step: _step, ...run } = metadata;
  return { state: { m, v, step }, run };
}
