/**
 * What NVIDIA's generators (stylegan2-ada-pytorch, stylegan3) share as pickled: checked init kwargs, the
 * FullyConnectedLayer with its gains folded in (weight × lr/sqrt(in) · extra, bias × lr · extra), and the
 * mapping network of such layers (`mapping.fc0`, `mapping.fc1`, …).
 */
import type { Tensor } from '../core/tensor.js';
import { describeValue } from '../io/pickle.js';
import { floatTensor, type NamedTensors } from '../io/named-tensors.js';

export function positiveInteger(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) throw new Error(`${what} ${describeValue(value)} is not a positive integer`);
  return value as number;
}

export function positiveNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value > 0) || value === Infinity) throw new Error(`${what} ${describeValue(value)} is not a positive number`);
  return value;
}

/** A dense layer [out, in] and its bias [out], gains folded in. */
export interface FoldedDense {
  weight: Tensor;
  bias: Float32Array;
}

/** FullyConnectedLayer `name` (`out` undefined: whatever it has), read against its shapes. */
export function fullyConnected(t: NamedTensors, name: string, out: number | undefined, inFeatures: number, lr: number, extraGain = 1): FoldedDense {
  const w = floatTensor(t, `${name}.weight`, [out, inFeatures]);
  const gain = (lr / Math.sqrt(inFeatures)) * extraGain;
  const b = floatTensor(t, `${name}.bias`, [w.shape[0]!]);
  return { weight: { data: w.data.map((x) => x * gain), shape: [...w.shape] }, bias: b.data.map((x) => x * lr * extraGain) };
}

/** z_dim → layer features → … → w_dim: each mapping layer takes what the one before gives. */
export function mappingLayers(t: NamedTensors, zDim: number, wDim: number, lr: number): FoldedDense[] {
  let count = 0;
  while (t.has(`mapping.fc${count}.weight`)) count++;
  const layers: FoldedDense[] = [];
  for (let i = 0, features = zDim; i < count; i++) {
    layers.push(fullyConnected(t, `mapping.fc${i}`, i === count - 1 ? wDim : undefined, features, lr));
    features = layers[i]!.weight.shape[0]!;
  }
  return layers;
}
