/**
 * What a loss is to the training step: a graph builder and a declaration of what it consumes, so the step
 * graph (and its micro-batched form) can hand each loss its inputs without knowing the loss.
 *   embeddings — unit CLIP embeddings of the frozen and adapted images [N, E] and the unit target
 *                direction [E] of one CLIP model; built once per CLIP model and summed with its weight;
 *                may couple samples, so it always sees the whole batch. Returns a scalar.
 *   images     — the frozen and adapted images [N, 3, H, W]; returns one value per sample [N], averaged
 *                over the batch by the step (so micro-batches add up to the same number).
 *   vector     — the trained vector [D] and its layers' sizes; returns a scalar.
 */
import type { Value } from '../engine/graph.js';

interface LossBase {
  /** As `--loss name=weight` and domain-file metadata spell it. */
  name: string;
  /** Weight in text-driven adaptation when `--loss` does not name it (0 = off). */
  defaultWeight: number;
  /** The smallest batch the loss is defined for. */
  minBatch: number;
}

export interface EmbeddingLoss extends LossBase {
  consumes: 'embeddings';
  build(inputs: { frozen: Value; adapted: Value; direction: () => Value }): Value;
}

export interface ImageLoss extends LossBase {
  consumes: 'images';
  build(inputs: { frozen: Value; adapted: Value }): Value;
}

export interface VectorLoss extends LossBase {
  consumes: 'vector';
  build(inputs: { vector: Value; layerDims: readonly number[] }): Value;
}

export type Loss = EmbeddingLoss | ImageLoss | VectorLoss;
