/**
 * One adaptation step as graphs (DESIGN.md §5): the frozen generator A and the adapted generator B, each
 * on its own W+ and noise maps (the two calls of HyperDomainNet's trainer draw their own crossover and
 * noise: step-draws.ts), each CLIP model on both image sets, the weighted losses, and d(loss)/d(domain).
 * Only the domain vector is an input that gradients flow to; A's branch is forward only.
 *
 * Per call c ∈ {frozen, adapted}: ws_c [B, L, D], noise_c_i [B, 1, R, R].
 * Fused (the whole batch in one graph, fastest):
 *   buildStepGraph: ws_c, noise_c_i, domain [Dd], direction_k [E_k]
 *                   → loss, one scalar per active loss term, grad_domain [Dd]
 * Micro-batched (memory ∝ micro-batch; the adapted forward runs twice):
 *   buildEmbeddingGraph   (per micro-batch) ws_c, noise_c_i, domain → frozen_k, adapted_k [m, E_k] (unit)
 *   buildLossGraph        (whole batch)     frozen_k, adapted_k [B, E_k], domain, direction_k
 *                                           → loss, terms, grad_domain (of offsets_l2), cot_adapted_k
 *   buildAdaptedVjpGraph  (per micro-batch) ws_adapted, noise_adapted_i, domain, cot_adapted_k → grad_domain
 * The losses couple samples (indomain compares pairs), so they see the whole batch's embeddings.
 */
import { Graph, type Value } from '../engine/graph.js';
import { grad } from '../engine/grad.js';
import { add, mul, sumAll } from '../engine/ops.js';
import { directionLoss } from '../losses/direction.js';
import { l2Normalize } from '../losses/embedding.js';
import { indomainLoss } from '../losses/indomain.js';
import { offsetsL2Loss } from '../losses/offsets-l2.js';
import type { LossName, LossWeights } from '../losses/weights.js';
import type { ClipWeights } from '../models/clip/architecture.js';
import { imageEncoder } from '../models/clip/graph.js';
import { generatorImageToClip } from '../models/clip/preprocess.js';
import { domainLayers, domainSize } from '../adapters/domain-vector.js';
import type { StyleGAN2 } from '../models/stylegan2/architecture.js';
import { synthesisNetwork } from '../models/stylegan2/graph.js';

export interface StepGraphSpec {
  arch: StyleGAN2;
  /** Each CLIP model with its weight in the sum of losses. */
  clips: ReadonlyArray<{ weights: ClipWeights; weight: number }>;
  batch: number;
  losses: LossWeights;
}

export type Call = 'frozen' | 'adapted';

/** One generator call's inputs: W+ and a noise map per styled conv. */
function callInputs(g: Graph, arch: StyleGAN2, batch: number, call: Call): { ws: Value; noises: Value[] } {
  return {
    ws: g.input(`ws_${call}`, [batch, arch.nLatent, arch.styleDim]),
    noises: arch.convs.map((c, i) => g.input(`noise_${call}_${i}`, [batch, 1, c.resolution, c.resolution])),
  };
}

function domainInput(g: Graph, arch: StyleGAN2): Value {
  return g.input('domain', [domainSize(arch)]);
}

/** Images of A and B. */
function bothGenerators(g: Graph, spec: StepGraphSpec): { frozen: Value; adapted: Value; domain: Value } {
  const frozen = synthesisNetwork(g, spec.arch, callInputs(g, spec.arch, spec.batch, 'frozen'));
  const domain = domainInput(g, spec.arch);
  const adapted = synthesisNetwork(g, spec.arch, { ...callInputs(g, spec.arch, spec.batch, 'adapted'), domain });
  return { frozen, adapted, domain };
}

/** Unit CLIP embeddings [N, E] of generator images. */
function embed(g: Graph, clip: ClipWeights, images: Value): Value {
  return l2Normalize(imageEncoder(g, clip, generatorImageToClip(g, images, clip.config.vision.resolution)));
}

/** The weighted sum of the active losses; each term is also a graph output under its name. */
function lossFromEmbeddings(
  g: Graph, spec: StepGraphSpec, embeddings: ReadonlyArray<{ frozen: Value; adapted: Value }>, domain: Value,
): Value {
  const { clips, losses, arch } = spec;
  const terms = new Map<LossName, Value>();
  const accumulate = (name: LossName, term: Value, weight: number) => {
    const weighted = mul(term, weight);
    const prev = terms.get(name);
    terms.set(name, prev ? add(prev, weighted) : weighted);
  };
  clips.forEach(({ weights, weight }, k) => {
    const { frozen, adapted } = embeddings[k]!;
    if (losses.direction > 0) {
      const direction = g.input(`direction_${k}`, [weights.config.embedDim]);
      accumulate('direction', directionLoss(frozen, adapted, direction), weight);
    }
    if (losses.indomain > 0) accumulate('indomain', indomainLoss(frozen, adapted), weight);
  });
  if (losses.offsets_l2 > 0) terms.set('offsets_l2', offsetsL2Loss(domain, domainLayers(arch).map((l) => l.dim)));

  let loss: Value | undefined;
  for (const [name, term] of terms) {
    g.output(name, term);
    const weighted = mul(term, losses[name]);
    loss = loss ? add(loss, weighted) : weighted;
  }
  if (!loss) throw new Error('no active loss term');
  g.output('loss', loss);
  return loss;
}

export function buildStepGraph(spec: StepGraphSpec): Graph {
  const g = new Graph('adapt_step');
  const images = bothGenerators(g, spec);
  const { domain } = images;
  const embeddings = spec.clips.map(({ weights }) => ({ frozen: embed(g, weights, images.frozen), adapted: embed(g, weights, images.adapted) }));
  const loss = lossFromEmbeddings(g, spec, embeddings, domain);
  g.output('grad_domain', grad(loss, [domain])[0]!);
  return g;
}

export function buildEmbeddingGraph(spec: StepGraphSpec): Graph {
  const g = new Graph('adapt_embed');
  const images = bothGenerators(g, spec);
  spec.clips.forEach(({ weights }, k) => {
    g.output(`frozen_${k}`, embed(g, weights, images.frozen));
    g.output(`adapted_${k}`, embed(g, weights, images.adapted));
  });
  return g;
}

export function buildLossGraph(spec: StepGraphSpec): Graph {
  const g = new Graph('adapt_loss');
  const domain = domainInput(g, spec.arch);
  const embeddings = spec.clips.map(({ weights }, k) => ({
    frozen: g.input(`frozen_${k}`, [spec.batch, weights.config.embedDim]),
    adapted: g.input(`adapted_${k}`, [spec.batch, weights.config.embedDim]),
  }));
  const loss = lossFromEmbeddings(g, spec, embeddings, domain);
  const grads = grad(loss, [domain, ...embeddings.map((e) => e.adapted)]);
  g.output('grad_domain', grads[0]!);
  grads.slice(1).forEach((cot, k) => g.output(`cot_adapted_${k}`, cot!));
  return g;
}

export function buildAdaptedVjpGraph(spec: StepGraphSpec): Graph {
  const g = new Graph('adapt_vjp');
  const domain = domainInput(g, spec.arch);
  const adaptedImages = synthesisNetwork(g, spec.arch, { ...callInputs(g, spec.arch, spec.batch, 'adapted'), domain });
  let pulled: Value | undefined;
  spec.clips.forEach(({ weights }, k) => {
    const cot = g.input(`cot_adapted_${k}`, [spec.batch, weights.config.embedDim]);
    const term = sumAll(mul(embed(g, weights, adaptedImages), cot));
    pulled = pulled ? add(pulled, term) : term;
  });
  g.output('grad_domain', grad(pulled!, [domain])[0]!);
  return g;
}
