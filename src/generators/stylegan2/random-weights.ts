/**
 * A rosinality-layout state dict of random weights in the real shapes (for benchmarks and tests; the
 * real checkpoints cannot be fetched here). Initialised as rosinality initialises a fresh Generator:
 * N(0, 1) weights (÷ lr_mul for the mapping), zero biases except modulation biases of 1, and small noise
 * strengths so every term of the synthesis is exercised.
 */
import type { Tensor } from '../../core/tensor.js';
import { RandomState } from '../../core/random-state.js';
import { configFChannels } from './architecture.js';

export interface RandomGeneratorConfig {
  size: number;
  styleDim?: number;
  nMlp?: number;
  channelMultiplier?: number;
  seed?: number;
}

export function randomRosinalityStateDict(config: RandomGeneratorConfig): Map<string, Tensor> {
  const { size, styleDim = 512, nMlp = 8, channelMultiplier = 2, seed = 0 } = config;
  const rng = new RandomState(seed);
  const channels = configFChannels(size, channelMultiplier);
  const sd = new Map<string, Tensor>();
  const put = (name: string, shape: number[], fill: 'randn' | number, scale = 1) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = fill === 'randn' ? rng.randn(n).map((x) => x * scale) : new Float32Array(n).fill(fill);
    sd.set(`g_ema.${name}`, { data, shape });
  };
  for (let i = 1; i <= nMlp; i++) {
    put(`style.${i}.weight`, [styleDim, styleDim], 'randn', 1 / 0.01);
    put(`style.${i}.bias`, [styleDim], 0);
  }
  put('input.input', [1, channels[4]!, 4, 4], 'randn');
  const styled = (name: string, inC: number, outC: number) => {
    put(`${name}.conv.weight`, [1, outC, inC, 3, 3], 'randn');
    put(`${name}.conv.modulation.weight`, [inC, styleDim], 'randn');
    put(`${name}.conv.modulation.bias`, [inC], 1);
    put(`${name}.noise.weight`, [1], 0.1);
    put(`${name}.activate.bias`, [outC], 0);
  };
  const toRgb = (name: string, inC: number) => {
    put(`${name}.conv.weight`, [1, 3, inC, 1, 1], 'randn');
    put(`${name}.conv.modulation.weight`, [inC, styleDim], 'randn');
    put(`${name}.conv.modulation.bias`, [inC], 1);
    put(`${name}.bias`, [1, 3, 1, 1], 0);
  };
  styled('conv1', channels[4]!, channels[4]!);
  toRgb('to_rgb1', channels[4]!);
  put('noises.noise_0', [1, 1, 4, 4], 'randn');
  let inC = channels[4]!;
  let layer = 0;
  for (let res = 8; res <= size; res *= 2, layer += 2) {
    const outC = channels[res]!;
    styled(`convs.${layer}`, inC, outC);
    styled(`convs.${layer + 1}`, outC, outC);
    toRgb(`to_rgbs.${layer / 2}`, outC);
    put(`noises.noise_${layer + 1}`, [1, 1, res, res], 'randn');
    put(`noises.noise_${layer + 2}`, [1, 1, res, res], 'randn');
    inC = outC;
  }
  return sd;
}
