/**
 * A Progressive GAN of random weights in the real shapes (for benchmarks; the real checkpoints cannot be
 * fetched here), initialised as pytorch_GAN_zoo initialises a fresh GNet: N(0, 1) weights times He's gain
 * (equalised learning rate), zero biases, fully grown (α 0).
 */
import { RandomState } from '../../core/random-state.js';
import type { ConvWeights, ProgressiveGAN, Scale } from './architecture.js';
import { paperChannels } from './architecture.js';

export interface RandomProgressiveGANConfig {
  size: number;
  zDim?: number;
  /** Channels per scale, 4x4 first; default the paper's table. */
  channels?: number[];
  seed?: number;
}

export function randomProgressiveGAN(config: RandomProgressiveGANConfig): ProgressiveGAN {
  const { size, zDim = 512, channels = paperChannels(size), seed = 0 } = config;
  const rng = new RandomState(seed);
  const conv = (name: string, inChannels: number, outChannels: number, k: number, resolution: number): ConvWeights => {
    const gain = Math.sqrt(2 / (inChannels * k * k));
    return { name, inChannels, outChannels, resolution, weight: { data: rng.randn(outChannels * inChannels * k * k).map((x) => x * gain), shape: [outChannels, inChannels, k, k] }, bias: new Float32Array(outChannels) };
  };
  const c0 = channels[0]!;
  const scales: Scale[] = [{ resolution: 4, convs: [conv('groupScale0.0', c0, c0, 3, 4)], toRgb: conv('toRGBLayers.0', c0, 3, 1, 4) }];
  for (let k = 1; k < channels.length; k++) {
    const resolution = 4 * 2 ** k;
    const [inC, outC] = [channels[k - 1]!, channels[k]!];
    scales.push({
      resolution,
      convs: [conv(`scaleLayers.${k - 1}.0`, inC, outC, 3, resolution), conv(`scaleLayers.${k - 1}.1`, outC, outC, 3, resolution)],
      toRgb: conv(`toRGBLayers.${k}`, outC, 3, 1, resolution),
    });
  }
  const formatGain = Math.sqrt(2 / zDim);
  return {
    zDim,
    formatLayer: { weight: { data: rng.randn(16 * c0 * zDim).map((x) => x * formatGain), shape: [16 * c0, zDim] }, bias: new Float32Array(16 * c0) },
    scales,
    leakyReluLeak: 0.2,
    alpha: 0,
    tanh: false,
    network: 'avgG',
    output: { scale: scales.length - 1, alpha: 0 },
  };
}
