/**
 * What the name maps (StyleGAN2 rosinality/NVIDIA, CLIP OpenAI/Hugging Face) read from checkpoints:
 * tensors by name, each checked to be present, floating point and of the shape the architecture implies,
 * so that a wrong tensor is refused by its name instead of failing later in a graph builder.
 */
import { shapeString, type Tensor, type TensorData } from '../core/tensor.js';

export type NamedTensors = Map<string, Tensor<TensorData>>;

/** An expected shape: numbers must match; `undefined` (shown as `*`) is whatever the tensor has, read off it. */
export type ShapePattern = readonly (number | undefined)[];

/** A named floating-point tensor of the expected shape (when one is given), or an error naming it. */
export function floatTensor(tensors: NamedTensors, name: string, shape?: ShapePattern): Tensor {
  const t = tensors.get(name);
  if (!t) throw new Error(`missing tensor "${name}"`);
  if (!(t.data instanceof Float32Array)) throw new Error(`tensor "${name}" is not floating point`);
  if (shape !== undefined && (t.shape.length !== shape.length || shape.some((d, i) => d !== undefined && d !== t.shape[i]))) {
    throw new Error(`tensor "${name}" has shape ${shapeString(t.shape)}; expected [${shape.map((d) => d ?? '*').join(', ')}]`);
  }
  return t as Tensor;
}
