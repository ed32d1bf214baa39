/**
 * One adaptation step (frozen + adapted generator, ViT-B/32 on both, direction loss, d(loss)/d(domain))
 * with random weights of the real shapes: the ANCHORS row at 256 px batch 2, and FFHQ-1024 batch 4.
 */
import { Session } from '../src/engine/session.js';
import { randomClipWeights } from './clip.js';
import { fromRosinality } from '../src/models/stylegan2/rosinality.js';
import { randomRosinalityStateDict } from '../src/models/stylegan2/random-weights.js';
import { noiseInputs, toWPlus } from '../src/models/stylegan2/latents.js';
import { buildStepGraph } from '../src/train/step-graph.js';
import { RandomState } from '../src/random/random-state.js';
import { timeRuns, type BenchRow } from './measure.js';

export async function benchAdaptStep(size: number, batch: number): Promise<BenchRow[]> {
  const arch = fromRosinality(randomRosinalityStateDict({ size }));
  const clip = randomClipWeights('ViT-B/32');
  const graph = buildStepGraph({ arch, clips: [{ weights: clip, weight: 1 }], batch, losses: { direction: 1, indomain: 0, offsets_l2: 0 } });
  const session = await Session.fromGraph(graph, { memoryArena: false });
  const rng = new RandomState(0);
  const ws = toWPlus({ data: rng.randn(batch * arch.styleDim), shape: [batch, arch.styleDim] }, arch.nLatent);
  const noises = noiseInputs(arch.convs, batch, 'random', 1);
  const direction = rng.randn(clip.config.embedDim);
  const feeds = {
    ws,
    domain: { data: rng.randn(arch.convs.reduce((n, c) => n + c.inChannels, 0)).map((x) => 0.01 * x), shape: [arch.convs.reduce((n, c) => n + c.inChannels, 0)] },
    direction_0: { data: direction, shape: [direction.length] },
    ...Object.fromEntries(noises.map((t, i) => [`noise_${i}`, t])),
  };
  const seconds = await timeRuns(() => session.run(feeds), size >= 1024 ? 1 : 2);
  await session.release();
  const rows: BenchRow[] = [{ name: `adapt step ${size}px batch ${batch}, ViT-B/32, direction`, value: seconds, unit: 's/step' }];
  if (size === 1024) rows.push({ name: `300 steps at 1024px batch ${batch} (estimate)`, value: (300 * seconds) / 60, unit: 'min' });
  return rows;
}
