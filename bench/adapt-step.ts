/**
 * One adaptation step (frozen + adapted generator on their own draws, ViT-B/32 on both, direction loss,
 * d(loss)/d(domain), plus drawing the step's latents and noise maps on the host)
 * with random weights of the real shapes: the ANCHORS row at 256 px batch 2, and FFHQ-1024 at batch 2
 * and 4, fused or in micro-batches (less memory, one more adapted forward pass).
 */
import { randomClipWeights } from './clip.js';
import { fromRosinality } from '../src/generators/stylegan2/rosinality.js';
import { randomRosinalityStateDict } from '../src/generators/stylegan2/random-weights.js';
import { mixStyles, toWPlus } from '../src/generators/latents.js';
import { seededDraws } from '../src/train/step-draws.js';
import { Generator } from '../src/generators/generator.js';
import { stylegan2 } from '../src/generators/stylegan2/family.js';
import { drawShape } from '../src/train/loop.js';
import { createStepRunner, stepPlan } from '../src/train/step-runner.js';
import { RandomState } from '../src/core/random-state.js';
import { timeRuns, type BenchRow } from './measure.js';

/** A config-f StyleGAN2 of random weights at this size. */
function stylegan2Generator(size: number): Generator {
  return new Generator(stylegan2, fromRosinality(randomRosinalityStateDict({ size })), { format: 'random', path: '-', fingerprint: '-' });
}

/** `microBatch` 'default': what `adapt` chooses on this machine when --micro-batch is not given. */
export async function benchAdaptStep(size: number, batch: number, micro: number | 'default' = batch, G: Generator = stylegan2Generator(size), title = ''): Promise<BenchRow[]> {
  const { microBatch, checkpointed } = stepPlan(G, batch, 1, undefined, micro === 'default' ? undefined : micro);
  const arch = { styleDim: G.styleDim, nLatent: G.nLatent };
  const clip = randomClipWeights('ViT-B/32');
  const step = await createStepRunner({ generator: G, clips: [{ weights: clip, weight: 1 }], batch, losses: { direction: 1, indomain: 0, offsets_l2: 0 }, checkpointed }, microBatch);
  const rng = new RandomState(0);
  // The frozen and the adapted call have their own W+ and noise maps, drawn as training draws them.
  const source = seededDraws(drawShape(G, batch), 0, 1);
  let drawn = 0;
  const draws = () => source.draw(drawn++);
  const d = await draws();
  const ws = toWPlus({ data: rng.randn(batch * arch.styleDim), shape: [batch, arch.styleDim] }, arch.nLatent);
  const inputs = {
    frozen: { ws, samples: d.frozen.noises },
    adapted: { ws: mixStyles(ws, toWPlus({ data: rng.randn(batch * arch.styleDim), shape: [batch, arch.styleDim] }, arch.nLatent), d.adapted.inject), samples: d.adapted.noises },
    vector: rng.randn(G.domainSize).map((x) => 0.01 * x),
    directions: [rng.randn(clip.config.embedDim)],
  };
  const seconds = await timeRuns(() => step.run(inputs), size >= 1024 ? 1 : 2);
  await step.release();
  const drawSeconds = await timeRuns(async () => draws(), 2);
  const how = (micro === 'default' ? `, default (micro-batch ${microBatch})` : microBatch < batch ? `, micro-batch ${microBatch}` : '') + (checkpointed ? ', layer by layer' : '');
  const rows: BenchRow[] = [
    { name: `adapt step ${title}${size}px batch ${batch}${how}, ViT-B/32, direction`, value: seconds + drawSeconds, unit: 's/step' },
    { name: `  of which drawing z and both calls' noise maps (host)`, value: drawSeconds, unit: 's of host work per step' },
  ];
  if (size === 1024) rows.push({ name: `300 steps ${title}at 1024px batch ${batch}${how} (estimate)`, value: (300 * (seconds + drawSeconds)) / 60, unit: 'min' });
  return rows;
}
