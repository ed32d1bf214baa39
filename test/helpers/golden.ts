/** Loading golden arrays and comparing against them with the README's metric: max|a − b| / max|b|. */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readNpy } from '../../src/io/npy.js';
import type { Tensor } from '../../src/core/tensor.js';

export const GOLDENS = fileURLToPath(new URL('../fixtures/goldens/', import.meta.url));

export async function golden(set: string, name: string): Promise<Tensor> {
  const t = await readNpy(`${GOLDENS}${set}/${name}`);
  assert.ok(t.data instanceof Float32Array, `${set}/${name} is float`);
  return t as Tensor;
}

export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'sizes differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / scale;
}

export function assertClose(actual: Tensor | Float32Array, expected: Tensor, tolerance: number, what: string): void {
  const data = actual instanceof Float32Array ? actual : actual.data;
  if (!(actual instanceof Float32Array)) assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const err = relativeError(data, expected.data);
  assert.ok(err <= tolerance, `${what}: relative error ${err.toExponential(2)} > ${tolerance}`);
}
