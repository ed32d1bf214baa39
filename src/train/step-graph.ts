/**
 * One adaptation step as graphs (DESIGN.md §5): the frozen generator A and the adapted generator B, each
 * on its own W+ and per-sample inputs (the two calls of HyperDomainNet's trainer draw their own crossover
 * and noise: step-draws.ts), each CLIP model on both image sets, the weighted losses of the loss registry,
 * and d(loss)/d(vector). Only the trained vector is an input that gradients flow to; A is forward only.
 *
 * Per call c ∈ {frozen, adapted}: c_ws [B, L, D], c_<sample input> [B, ...] (StyleGAN2: c_noise_i).
 * Fused (the whole batch in one graph, fastest):
 *   buildStepGraph: both calls' inputs, domain [Dd], direction_k [E_k]
 *                   → loss, one scalar per active loss, grad_domain [Dd]
 * Micro-batched (memory ∝ micro-batch; the adapted forward runs twice):
 *   buildEmbeddingGraph   (per micro-batch; checkpointed: per call) the calls' inputs, domain
 *                                           → frozen_k, adapted_k [m, E_k] (unit),
 *                                           checkpointed: adapted_layer_<name> per layer
 *   buildLossGraph        (whole batch)     frozen_k, adapted_k [B, E_k], domain, direction_k
 *                                           → loss, terms, grad_domain, cot_adapted_k
 *   buildAdaptedVjpGraph  (per micro-batch) both calls (the frozen one only for image losses), domain,
 *                                           cot_adapted_k, checkpointed: adapted_layer_<name>
 *                                           → grad_domain, the image losses' share
 * Embedding losses may couple samples (indomain compares pairs), so they see the whole batch's
 * embeddings; image losses are per sample, so each micro-batch adds its share of the batch mean.
 */
import { Graph, type Value } from '../engine/graph.js';
import { checkpoint } from '../engine/checkpoint.js';
import { grad } from '../engine/grad.js';
import { add, mul, reduceSum, sumAll } from '../engine/ops.js';
import type { LayerStage } from '../generators/family.js';
import type { Generator } from '../generators/generator.js';
import { l2Normalize } from '../losses/embedding.js';
import type { Loss } from '../losses/loss.js';
import { activeLosses, type LossWeights } from '../losses/registry.js';
import type { ClipWeights } from '../clip/architecture.js';
import { imageEncoder } from '../clip/graph.js';
import { generatorImageToClip } from '../clip/preprocess.js';

export interface StepGraphSpec {
  generator: Generator;
  /** Each CLIP model with its weight in the sum of losses. */
  clips: ReadonlyArray<{ weights: ClipWeights; weight: number }>;
  batch: number;
  losses: LossWeights;
  /**
   * Micro-batched graphs only: the embedding graph also outputs the adapted generator's layer outputs, and
   * the VJP graph takes them as inputs and rebuilds each layer in its backward pass (engine/checkpoint.ts).
   * Memory then holds one layer's activations at a time, for one more adapted forward pass per layer.
   */
  checkpointed?: boolean;
}

export type Call = 'frozen' | 'adapted';

/** Images of one call; the adapted call gets the trained vector. */
function callImages(g: Graph, spec: StepGraphSpec, call: Call, vector: Value, stage?: LayerStage): Value {
  const inputs = spec.generator.synthesisGraphInputs(g, spec.batch, `${call}_`);
  return spec.generator.synthesisGraph(g, { ...inputs, vector: call === 'adapted' ? vector : undefined, stage });
}

/** The checkpointed step's name for the adapted call's output of one layer. */
const storedName = (layer: string) => `adapted_layer_${layer}`;

function vectorInput(g: Graph, spec: StepGraphSpec): Value {
  return g.input('domain', [spec.generator.domainSize]);
}

/** Unit CLIP embeddings [N, E] of generator images. */
function embed(g: Graph, clip: ClipWeights, images: Value): Value {
  return l2Normalize(imageEncoder(g, clip, generatorImageToClip(g, images, clip.config.vision.resolution)));
}

type Active = ReturnType<typeof activeLosses>;
const consuming = <C extends Loss['consumes']>(active: Active, kind: C) =>
  active.filter((a): a is { loss: Extract<Loss, { consumes: C }>; weight: number } => a.loss.consumes === kind);

/** Σ over samples of each image loss, divided by the whole batch: a micro-batch's share of the batch mean. */
function imageTerms(active: Active, frozen: Value, adapted: Value, batch: number): Map<string, Value> {
  return new Map(consuming(active, 'images').map(({ loss }) => [loss.name, mul(reduceSum(loss.build({ frozen, adapted }), [0]), 1 / batch)]));
}

/** Embedding and vector losses, by name. */
function batchTerms(g: Graph, spec: StepGraphSpec, active: Active, embeddings: ReadonlyArray<{ frozen: Value; adapted: Value }>, vector: Value): Map<string, Value> {
  const terms = new Map<string, Value>();
  for (const { loss } of consuming(active, 'embeddings')) {
    let sum: Value | undefined;
    spec.clips.forEach(({ weights, weight }, k) => {
      const direction = () => g.input(`direction_${k}`, [weights.config.embedDim]);
      const term = mul(loss.build({ ...embeddings[k]!, direction }), weight);
      sum = sum ? add(sum, term) : term;
    });
    terms.set(loss.name, sum!);
  }
  for (const { loss } of consuming(active, 'vector')) {
    terms.set(loss.name, loss.build({ vector, layerDims: spec.generator.domainLayers.map((l) => l.dim) }));
  }
  return terms;
}

/** Outputs each term under its name and returns Σ weight · term. */
function weightedSum(g: Graph, active: Active, terms: Map<string, Value>, output = true): Value | undefined {
  let total: Value | undefined;
  for (const { loss, weight } of active) {
    const term = terms.get(loss.name);
    if (!term) continue;
    if (output) g.output(loss.name, term);
    const weighted = mul(term, weight);
    total = total ? add(total, weighted) : weighted;
  }
  return total;
}

function checkedActive(spec: StepGraphSpec): Active {
  const active = activeLosses(spec.losses);
  if (active.length === 0) throw new Error('no active loss term');
  for (const { loss } of active) {
    if (spec.batch < loss.minBatch) throw new Error(`the ${loss.name} loss needs a batch of at least ${loss.minBatch}`);
  }
  return active;
}

export function buildStepGraph(spec: StepGraphSpec): Graph {
  const g = new Graph('adapt_step');
  const active = checkedActive(spec);
  const vector = vectorInput(g, spec);
  const frozen = callImages(g, spec, 'frozen', vector);
  const adapted = callImages(g, spec, 'adapted', vector);
  const embeddings = spec.clips.map(({ weights }) => ({ frozen: embed(g, weights, frozen), adapted: embed(g, weights, adapted) }));
  const terms = new Map([...batchTerms(g, spec, active, embeddings, vector), ...imageTerms(active, frozen, adapted, spec.batch)]);
  const loss = weightedSum(g, active, terms)!;
  g.output('loss', loss);
  g.output('grad_domain', grad(loss, [vector])[0]!);
  return g;
}

/**
 * The embeddings of `calls`. In one graph, ONNX Runtime's planner gives the frozen call's freed buffers to
 * the adapted call's values of the same size and keeps them allocated in between, about one generator
 * forward pass (6 of 10 GB for StyleGAN3-T at 128 px); a graph per call instead holds the weights twice
 * (0.5 GB more for FFHQ-1024 and ViT-B/32). Checkpointed steps, which are about memory, take one per call.
 */
export function buildEmbeddingGraph(spec: StepGraphSpec, calls: readonly Call[]): Graph {
  const g = new Graph(`adapt_embed_${calls.join('_')}`);
  const vector = vectorInput(g, spec);
  const store: LayerStage = (layer, inputs, _shape, build) => g.output(storedName(layer), build(inputs));
  for (const call of calls) {
    const images = callImages(g, spec, call, vector, call === 'adapted' && spec.checkpointed ? store : undefined);
    spec.clips.forEach(({ weights }, k) => g.output(`${call}_${k}`, embed(g, weights, images)));
  }
  return g;
}

/** The embedding and vector losses of the whole batch; `batch` is the whole batch. */
export function buildLossGraph(spec: StepGraphSpec): Graph {
  const g = new Graph('adapt_loss');
  const active = checkedActive(spec).filter(({ loss }) => loss.consumes !== 'images');
  const vector = vectorInput(g, spec);
  const embeddings = spec.clips.map(({ weights }, k) => ({
    frozen: g.input(`frozen_${k}`, [spec.batch, weights.config.embedDim]),
    adapted: g.input(`adapted_${k}`, [spec.batch, weights.config.embedDim]),
  }));
  const loss = weightedSum(g, active, batchTerms(g, spec, active, embeddings, vector)) ?? mul(sumAll(vector), 0);
  g.output('loss', loss);
  const grads = grad(loss, [vector, ...embeddings.map((e) => e.adapted)]);
  g.output('grad_domain', grads[0]!);
  grads.slice(1).forEach((cot, k) => g.output(`cot_adapted_${k}`, cot!));
  return g;
}

/**
 * Pulls the loss graph's cotangents back through CLIP and the adapted generator for one micro-batch, and
 * adds the micro-batch's share of the image losses (`wholeBatch` is their denominator).
 */
export function buildAdaptedVjpGraph(spec: StepGraphSpec, wholeBatch: number): Graph {
  const g = new Graph('adapt_vjp');
  const images = consuming(checkedActive({ ...spec, batch: wholeBatch }), 'images');
  const vector = vectorInput(g, spec);
  const rebuild: LayerStage = (layer, inputs, shape, build) => checkpoint(inputs, g.input(storedName(layer), shape), build);
  const adapted = callImages(g, spec, 'adapted', vector, spec.checkpointed ? rebuild : undefined);
  let pulled: Value | undefined;
  spec.clips.forEach(({ weights }, k) => {
    const cot = g.input(`cot_adapted_${k}`, [spec.batch, weights.config.embedDim]);
    const term = sumAll(mul(embed(g, weights, adapted), cot));
    pulled = pulled ? add(pulled, term) : term;
  });
  if (images.length > 0) {
    const share = weightedSum(g, images, imageTerms(images, callImages(g, spec, 'frozen', vector), adapted, wholeBatch))!;
    g.output('loss', share);
    pulled = pulled ? add(pulled, share) : share;
  }
  g.output('grad_domain', grad(pulled!, [vector])[0]!);
  return g;
}

