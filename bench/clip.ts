/**
 * CLIP image-encoder speed: ViT-B/32 with random weights of the real shapes (no file needed), seconds
 * per image at batch 1 and 8. PyTorch reference: 0.18 s/image (../shared/ANCHORS.md).
 */
import { clipWeights, type ClipWeights, type LayerNormWeights, type LinearWeights, type ResidualBlockWeights } from '../src/clip/architecture.js';
import { Clip } from '../src/clip/clip.js';
import type { Tensor } from '../src/core/tensor.js';
import { timeRuns, type BenchRow } from './measure.js';

interface TowerShape {
  width: number;
  layers: number;
}

const PRESETS = {
  'ViT-B/32': { embedDim: 512, patch: 32, resolution: 224, vision: { width: 768, layers: 12 }, text: { width: 512, layers: 12 } },
  'ViT-B/16': { embedDim: 512, patch: 16, resolution: 224, vision: { width: 768, layers: 12 }, text: { width: 512, layers: 12 } },
} as const;

const VOCAB = 49408;
const CONTEXT = 77;

/**
 * Uniform values with the given standard deviation (timing does not depend on the distribution, and this
 * is ~10x faster than Box-Muller normals for the 150 M weights of a ViT-B).
 */
function randomValues(seed: { state: number }, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  const scale = std * Math.sqrt(12);
  let s = seed.state;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 - 0.5) * scale;
  }
  seed.state = s;
  return out;
}

/** Random CLIP weights in the real shapes of a released model, initialised with openai/CLIP's standard deviations. */
export function randomClipWeights(preset: keyof typeof PRESETS, seedValue = 1): ClipWeights {
  const p = PRESETS[preset];
  const seed = { state: seedValue };
  const tensor = (shape: number[], std: number): Tensor => ({ data: randomValues(seed, shape.reduce((a, b) => a * b, 1), std), shape });
  const layerNorm = (w: number): LayerNormWeights => ({ weight: new Float32Array(w).fill(1), bias: new Float32Array(w) });
  const linear = (out: number, inp: number, std: number): LinearWeights => ({ weight: tensor([out, inp], std), bias: new Float32Array(out) });
  const blocks = ({ width, layers }: TowerShape): ResidualBlockWeights[] =>
    Array.from({ length: layers }, () => {
      const projStd = width ** -0.5 * (2 * layers) ** -0.5;
      return {
        ln1: layerNorm(width),
        attnIn: linear(3 * width, width, width ** -0.5),
        attnOut: linear(width, width, projStd),
        ln2: layerNorm(width),
        mlpFc: linear(4 * width, width, (2 * width) ** -0.5),
        mlpProj: linear(width, 4 * width, projStd),
      };
    });
  const vw = p.vision.width;
  const grid = p.resolution / p.patch;
  return clipWeights({
    vision: {
      patchEmbedding: tensor([vw, 3, p.patch, p.patch], (3 * p.patch * p.patch) ** -0.5),
      classEmbedding: randomValues(seed, vw, vw ** -0.5),
      positionalEmbedding: tensor([grid * grid + 1, vw], vw ** -0.5),
      lnPre: layerNorm(vw),
      blocks: blocks(p.vision),
      lnPost: layerNorm(vw),
      proj: tensor([vw, p.embedDim], vw ** -0.5),
    },
    text: {
      tokenEmbedding: tensor([VOCAB, p.text.width], 0.02),
      positionalEmbedding: tensor([CONTEXT, p.text.width], 0.01),
      blocks: blocks(p.text),
      lnFinal: layerNorm(p.text.width),
      projection: tensor([p.text.width, p.embedDim], p.text.width ** -0.5),
    },
    logitScale: Math.log(1 / 0.07),
  });
}

export async function benchClip(): Promise<Array<BenchRow & { anchor?: string }>> {
  const weights = randomClipWeights('ViT-B/32');
  const rows: Array<BenchRow & { anchor?: string }> = [];
  for (const batch of [1, 8]) {
    const clip = new Clip(weights, 'ViT-B/32 (random weights)', { format: 'random', path: '-' }, { batch });
    const r = clip.resolution;
    const pixels: Tensor = { data: randomValues({ state: 7 }, batch * 3 * r * r, 1), shape: [batch, 3, r, r] };
    const seconds = await timeRuns(() => clip.encodeImage(pixels), batch === 1 ? 7 : 3);
    await clip.release();
    rows.push({ name: `CLIP ViT-B/32 image encoder, batch ${batch}`, value: seconds / batch, unit: 's/image', anchor: 'PyTorch 0.18 s/image' });
  }
  return rows;
}
