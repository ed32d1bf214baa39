/**
 * One adaptation step as one graph (DESIGN.md §5): the frozen generator A and the adapted generator B on
 * the same latents and noise, each CLIP model on both image sets, the weighted losses, and
 * d(loss)/d(domain). Only the domain vector is an input that gradients flow to; A's branch is forward only.
 *
 * Inputs:  ws [B, L, D], noise_i [B, 1, R, R], domain [Dd], direction_k [E_k] (unit, per CLIP model)
 * Outputs: loss, one scalar per active loss term, grad_domain [Dd]
 */
import { Graph, type Value } from '../engine/graph.js';
import { grad } from '../engine/grad.js';
import { add, mul } from '../engine/ops.js';
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

export function buildStepGraph(spec: StepGraphSpec): Graph {
  const { arch, clips, batch, losses } = spec;
  const g = new Graph('adapt_step');
  const ws = g.input('ws', [batch, arch.nLatent, arch.styleDim]);
  const noises = arch.convs.map((c, i) => g.input(`noise_${i}`, [batch, 1, c.resolution, c.resolution]));
  const domain = g.input('domain', [domainSize(arch)]);
  const frozenImages = synthesisNetwork(g, arch, { ws, noises });
  const adaptedImages = synthesisNetwork(g, arch, { ws, noises, domain });

  const terms = new Map<LossName, Value>();
  const accumulate = (name: LossName, term: Value, weight: number) => {
    const weighted = mul(term, weight);
    const prev = terms.get(name);
    terms.set(name, prev ? add(prev, weighted) : weighted);
  };
  clips.forEach(({ weights, weight }, k) => {
    const embed = (images: Value) =>
      l2Normalize(imageEncoder(g, weights, generatorImageToClip(g, images, weights.config.vision.resolution)));
    const frozen = embed(frozenImages);
    const adapted = embed(adaptedImages);
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
  g.output('grad_domain', grad(loss, [domain])[0]!);
  return g;
}
