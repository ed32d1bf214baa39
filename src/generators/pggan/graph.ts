/**
 * The Progressive GAN generator as graph builders, written to be read next to pytorch_GAN_zoo's
 * progressive_conv_net.py (GNet.forward) and custom_layers.py:
 *   x = pixelNorm(z)                                     [N, zDim]
 *   x = pixelNorm(lrelu(formatLayer(x)).view(N, c0, 4, 4))
 *   scale 0:  x = pixelNorm(lrelu(conv3x3(x)))           [N, c0, 4, 4]
 *   scale k:  x = up2(x), then twice x = pixelNorm(lrelu(conv3x3(x)))   (the first fused: upsampleConvLayer)
 *   img = toRGB_K(x_K), blended while scale K grows: α·up2(toRGB_{K−1}(x_{K−1})) + (1 − α)·img
 * pixelNorm(x) = x · rsqrt(mean over channels of x² + 1e-8); up2 is nearest-neighbour. A trained vector
 * enters through hooks.inputScale: each 3x3 conv sees x · c, c = [1, in] (the domain vector's 1 + d).
 */
import type { Graph, Value } from '../../engine/graph.js';
import { add, concat, conv, depthToSpace, expand, leakyRelu, matmul, mul, reduceMean, reshape, rsqrt, sigmoid, slice, square, sub } from '../../engine/ops.js';
import { transpose2d, type Tensor } from '../../core/tensor.js';
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

/**
 * conv3x3(up2(x)) without the upsampled input: output pixel (2h + i, 2w + j) sees only the 2x2 window of x
 * at rows h − 1 + i … h + i (columns likewise), through the 3x3 taps that fall on each of its pixels
 * summed. So one 2x2 conv of x padded by 1 gives all four phases ([4·out, in, 2, 2], phase (i, j) at
 * channels (2i + j)·out …), each read off at offset (i, j) and interleaved by DepthToSpace: 16 instead of
 * 36 multiply-adds per input pixel and output channel, and no 4x copy of x.
 */
const phaseKernels = new WeakMap<ConvWeights, Tensor>();

/** The 3x3 taps that land on window row (or column) r ∈ {0, 1} of phase i ∈ {0, 1}. */
const TAPS = [[[0], [1, 2]], [[0, 1], [2]]] as const;

function phaseKernel(c: ConvWeights): Tensor {
  let k = phaseKernels.get(c);
  if (k) return k;
  const { inChannels: cin, outChannels: cout } = c;
  const w = c.weight.data;
  const out = new Float32Array(4 * cout * cin * 4);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
    for (let o = 0; o < cout; o++) for (let m = 0; m < cin; m++) {
      const src = (o * cin + m) * 9;
      const dst = (((2 * i + j) * cout + o) * cin + m) * 4;
      for (let r = 0; r < 2; r++) for (let q = 0; q < 2; q++) {
        let sum = 0;
        for (const a of TAPS[i]![r]!) for (const b of TAPS[j]![q]!) sum += w[src + a * 3 + b]!;
        out[dst + r * 2 + q] = sum;
      }
    }
  }
  phaseKernels.set(c, (k = { data: out, shape: [4 * cout, cin, 2, 2] }));
  return k;
}

/** x [N, in, H, W] → conv3x3(up2(x · scale)) + b  [N, out, 2H, 2W] */
function upsampleConvLayer(g: Graph, c: ConvWeights, x: Value, scale: Value | undefined): Value {
  const [, , h, w] = x.shape as [number, number, number, number];
  const input = scale ? mul(x, reshape(scale, [1, c.inChannels, 1, 1])) : x;
  const k = phaseKernel(c);
  const y = conv(input, g.constant(k.data, k.shape), { pads: [1, 1, 1, 1] }); // [N, 4·out, H+1, W+1]
  const phases = [0, 1].flatMap((i) => [0, 1].map((j) => {
    const p = slice(y, 1, (2 * i + j) * c.outChannels, (2 * i + j + 1) * c.outChannels);
    return slice(slice(p, 2, i, i + h), 3, j, j + w); // [N, out, H, W]
  }));
  return add(depthToSpace(concat(phases, 1), 2), g.constant(c.bias, [1, c.outChannels, 1, 1]));
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
    scale.convs.forEach((c, i) => {
      const inputScale = hooks.inputScale?.(layers.get(c.name)!);
      const y = k > 0 && i === 0 ? upsampleConvLayer(g, c, x, inputScale) : convLayer(g, c, x, inputScale);
      x = pixelNorm(lrelu(y));
    });
    if (alpha > 0 && k === last - 1) previous = upsample2(convLayer(g, scale.toRgb, x, undefined));
  }
  let img = convLayer(g, G.scales[last]!.toRgb, x, undefined);
  if (previous) img = add(mul(previous, alpha), mul(img, 1 - alpha));
  // tanh(x) = 2·sigmoid(2x) − 1
  return G.tanh ? sub(mul(sigmoid(mul(img, 2)), 2), 1) : img;
}
