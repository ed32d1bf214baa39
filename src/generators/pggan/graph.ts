/**
 * The Progressive GAN generator as graph builders, written to be read next to pytorch_GAN_zoo's
 * progressive_conv_net.py (GNet.forward) and custom_layers.py:
 *   x = pixelNorm(z)                                     [N, zDim]
 *   x = pixelNorm(lrelu(formatLayer(x)).view(N, c0, 4, 4))
 *   scale 0:  x = pixelNorm(lrelu(conv3x3(x)))           [N, c0, 4, 4]
 *   scale k:  x = up2(x), then twice x = pixelNorm(lrelu(conv3x3(x)))
 *   img = toRGB_K(x_K), blended while scale K grows: α·up2(toRGB_{K−1}(x_{K−1})) + (1 − α)·img
 * pixelNorm(x) = x · rsqrt(mean over channels of x² + 1e-8); up2 is nearest-neighbour. A trained vector
 * enters through hooks.inputScale: each 3x3 conv sees x · c, c = [1, in] (the domain vector's 1 + d).
 */
import type { Graph, Value } from '../../engine/graph.js';
import { add, conv, expand, leakyRelu, matmul, mul, reduceMean, reshape, rsqrt, sigmoid, square, sub } from '../../engine/ops.js';
import { transpose2d } from '../../core/tensor.js';
import type { LayerHooks, ModulatedLayer } from '../family.js';
import type { ConvWeights, ProgressiveGAN } from './architecture.js';
import { synthesisConvs } from './architecture.js';

/** The 3x3 convs (what a parameterisation trains) and the toRGB layers, in synthesis order. */
export function modulatedLayers(G: ProgressiveGAN): ModulatedLayer[] {
  const layer = (c: ConvWeights, role: 'conv' | 'torgb'): ModulatedLayer => ({ name: c.name, role, inChannels: c.inChannels, resolution: c.resolution, styled: false });
  return [...synthesisConvs(G).map((c) => layer(c, 'conv')), ...G.scales.map((s) => layer(s.toRgb, 'torgb'))];
}

/** Normalises each pixel's feature vector (axis 1) to unit mean square. */
function pixelNorm(x: Value): Value {
  return mul(x, rsqrt(add(reduceMean(square(x), [1], true), 1e-8)));
}

/** Nearest-neighbour 2x: [N, C, H, W] → [N, C, 2H, 2W], as custom_layers.Upscale2d (view, expand, view). */
function upsample2(x: Value): Value {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  return reshape(expand(reshape(x, [n, c, h, 1, w, 1]), [n, c, h, 2, w, 2]), [n, c, 2 * h, 2 * w]);
}

/** x [N, in, H, W] → conv(x · scale) + b, "same" padding. */
function convLayer(g: Graph, c: ConvWeights, x: Value, scale: Value | undefined): Value {
  const input = scale ? mul(x, reshape(scale, [1, c.inChannels, 1, 1])) : x;
  const k = c.weight.shape[2]!;
  const pad = (k - 1) / 2;
  const y = conv(input, g.constant(c.weight.data, c.weight.shape), { pads: [pad, pad, pad, pad] });
  return add(y, g.constant(c.bias, [1, c.outChannels, 1, 1]));
}

/** W [N, 1, zDim] (W is z: there is no mapping network) → image [N, 3, size, size] at the configured scale. */
export function synthesisNetwork(g: Graph, G: ProgressiveGAN, ws: Value, hooks: LayerHooks = {}): Value {
  const n = ws.shape[0]!;
  const { scale: last, alpha } = G.output;
  const layers = new Map(modulatedLayers(G).map((l) => [l.name, l]));
  const lrelu = (x: Value) => leakyRelu(x, G.leakyReluLeak);
  const { weight, bias } = G.formatLayer;
  const c0 = G.scales[0]!.convs[0]!.inChannels;

  let x = pixelNorm(reshape(ws, [n, G.zDim]));
  x = add(matmul(x, g.constant(transpose2d(weight).data, [G.zDim, weight.shape[0]!])), g.constant(bias, [bias.length]));
  x = pixelNorm(reshape(lrelu(x), [n, c0, 4, 4]));
  let previous: Value | undefined; // the growing scale's predecessor, as an upsampled image
  for (let k = 0; k <= last; k++) {
    const scale = G.scales[k]!;
    if (k > 0) x = upsample2(x);
    for (const c of scale.convs) x = pixelNorm(lrelu(convLayer(g, c, x, hooks.inputScale?.(layers.get(c.name)!))));
    if (alpha > 0 && k === last - 1) previous = upsample2(convLayer(g, scale.toRgb, x, undefined));
  }
  let img = convLayer(g, G.scales[last]!.toRgb, x, undefined);
  if (previous) img = add(mul(previous, alpha), mul(img, 1 - alpha));
  // tanh(x) = 2·sigmoid(2x) − 1
  return G.tanh ? sub(mul(sigmoid(mul(img, 2)), 2), 1) : img;
}
