/**
 * StyleGAN2 as graph builders (DESIGN.md §3), written to be read next to rosinality's model.py.
 * The builders append to a caller's Graph, so the training step can place the frozen and the adapted
 * generator in one graph that shares every weight.
 *
 * Modulated conv in its non-fused form, which keeps the weights constant and the batch free:
 *   s  = hooks.style(affine(w))  [N, in]         style (StyleSpace offsets shift it)
 *   x' = x · s·c                                 c = hooks.inputScale [1, in] (the domain vector's 1 + d)
 *   y  = conv(x', W) · rsqrt(s² @ ΣₖW² + 1e-8)   demodulated from s, without c
 * followed by noise, bias and leaky ReLU·√2 (folded: lrelu is positively homogeneous).
 */
import type { Graph, Value } from '../../engine/graph.js';
import {
  add, clip, conv, depthToSpace, expand, interleave2x2, leakyRelu, matmul, mul, reshape, rsqrt, square,
} from '../../engine/ops.js';
import { transpose2d, type Tensor } from '../../core/tensor.js';
import type { LayerHooks, ModulatedLayer } from '../family.js';
import { latentRow, styleMapping } from '../style-graph.js';
import type { DenseWeights, StyleGAN2, StyledConvWeights, ToRgbWeights } from './architecture.js';
import { firDepthwise, polyphaseUpsampleFir, transposedConvPhases, type PhaseConv, type PhaseConvs } from './resample.js';

const SQRT2 = Math.SQRT2;

interface PreparedConv {
  /** An upsampling conv's transposed conv, one conv per output phase (resample.ts), and its FIR. */
  upsample?: { phases: PhaseConvs; fir: Tensor };
  weightSqT: Tensor;
  noiseStrength: number;
  bias: Float32Array;
}

/** Host-side constants derived once per generator (transposed, squared, polyphase weights). */
interface Prepared {
  dense: WeakMap<DenseWeights, { weightT: Tensor; bias: Float32Array }>;
  conv: WeakMap<StyledConvWeights, PreparedConv>;
  skipUp: Tensor;
}

const preparedCache = new WeakMap<StyleGAN2, Prepared>();


/** [out, in, k, k] → [in, out] of Σₖ W², the demodulation matrix. */
function squaredSumT(w: Tensor): Tensor {
  const [o, i, kh, kw] = w.shape as [number, number, number, number];
  const k = kh * kw;
  const out = new Float32Array(i * o);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += w.data[(a * i + b) * k + t]! ** 2;
      out[b * o + a] = s;
    }
  }
  return { data: out, shape: [i, o] };
}

function prepare(G: StyleGAN2): Prepared {
  let p = preparedCache.get(G);
  if (p) return p;
  p = { dense: new WeakMap(), conv: new WeakMap(), skipUp: polyphaseUpsampleFir(3) };
  for (const d of [...G.mapping, ...G.convs.map((c) => c.affine), ...G.toRgbs.map((t) => t.affine)]) {
    p.dense.set(d, { weightT: transpose2d(d.weight), bias: d.bias });
  }
  for (const c of G.convs) {
    p.conv.set(c, {
      upsample: c.upsample ? { phases: transposedConvPhases(c.weight), fir: firDepthwise(c.outChannels) } : undefined,
      weightSqT: squaredSumT(c.weight),
      // The activation gain √2 moves in front of the leaky ReLU, onto demodulation, noise and bias.
      noiseStrength: c.noiseStrength * SQRT2,
      bias: c.bias.map((b) => b * SQRT2),
    });
  }
  preparedCache.set(G, p);
  return p;
}

function constant(g: Graph, t: Tensor): Value {
  return g.constant(t.data, t.shape);
}

/** x [N, in] → x @ Wᵀ + b  [N, out] */
function dense(g: Graph, P: Prepared, d: DenseWeights, x: Value): Value {
  const { weightT, bias } = P.dense.get(d)!;
  return add(matmul(x, constant(g, weightT)), g.constant(bias, [bias.length]));
}

/** z [N, zDim] → w [N, wDim] (style-graph.ts). */
export function mappingNetwork(g: Graph, G: StyleGAN2, z: Value): Value {
  const P = prepare(G);
  return styleMapping(z, G.mapping.length, (i, x) => dense(g, P, G.mapping[i]!, x));
}


/** The synthesis convs and ToRGB layers as parameterisations see them, in synthesis order. */
export function modulatedLayers(G: StyleGAN2): ModulatedLayer[] {
  return [
    ...G.convs.map((c) => ({ name: c.name, role: 'conv' as const, inChannels: c.inChannels, resolution: c.resolution, styled: true })),
    ...G.toRgbs.map((t, i) => ({ name: toRgbName(i), role: 'torgb' as const, inChannels: t.inChannels, resolution: t.resolution, styled: true })),
  ];
}

/** rosinality's module names: to_rgb1, to_rgbs.0, … */
function toRgbName(i: number): string {
  return i === 0 ? 'to_rgb1' : `to_rgbs.${i - 1}`;
}

function styledConv(
  g: Graph, G: StyleGAN2, P: Prepared, layer: StyledConvWeights,
  me: ModulatedLayer, x: Value, w: Value, noise: Value, hooks: LayerHooks,
): Value {
  const n = x.shape[0]!;
  const c = P.conv.get(layer)!;
  const affine = dense(g, P, layer.affine, w);
  const style = hooks.style?.(me, affine) ?? affine; // [N, in]
  const scale = hooks.inputScale?.(me);
  const modulated = mul(x, reshape(scale ? mul(style, scale) : style, [n, layer.inChannels, 1, 1]));
  let y: Value;
  if (c.upsample) {
    const phase = ({ kernel, pads }: PhaseConv) => conv(modulated, constant(g, kernel), { pads }); // [N, out, H+1, W+1]
    const [[p00, p01], [p10, p11]] = c.upsample.phases;
    const transposed = interleave2x2([[phase(p00), phase(p01)], [phase(p10), phase(p11)]]); // [N, out, 2H+2, 2W+2]
    y = conv(transposed, constant(g, c.upsample.fir), { pads: [0, 0, 1, 1], group: layer.outChannels }); // [N, out, 2H, 2W]
  } else {
    y = conv(modulated, constant(g, layer.weight), { pads: [1, 1, 1, 1] }); // [N, out, H, W]
  }
  const demod = mul(rsqrt(add(matmul(square(style), constant(g, c.weightSqT)), 1e-8)), SQRT2); // [N, out]
  let out = mul(y, reshape(demod, [n, layer.outChannels, 1, 1]));
  out = add(out, mul(noise, c.noiseStrength));
  out = leakyRelu(add(out, g.constant(c.bias, [1, layer.outChannels, 1, 1])), 0.2);
  return G.convClamp === null ? out : clip(out, -G.convClamp, G.convClamp);
}

function toRgb(
  g: Graph, G: StyleGAN2, P: Prepared, layer: ToRgbWeights, me: ModulatedLayer, x: Value, w: Value, skip: Value | undefined, hooks: LayerHooks,
): Value {
  const n = x.shape[0]!;
  const affine = dense(g, P, layer.affine, w);
  const style = hooks.style?.(me, affine) ?? affine;
  const y0 = conv(mul(x, reshape(style, [n, layer.inChannels, 1, 1])), constant(g, layer.weight));
  let y = add(y0, g.constant(layer.bias, [1, 3, 1, 1]));
  if (G.convClamp !== null) y = clip(y, -G.convClamp, G.convClamp);
  if (!skip) return y;
  const upsampled = depthToSpace(conv(skip, constant(g, P.skipUp), { pads: [1, 1, 1, 1] }), 2);
  return add(upsampled, y);
}

export interface SynthesisInputs {
  /** W+ [N, nLatent, D] */
  ws: Value;
  /** One per styled conv, [N, 1, R, R] (already the chosen noise mode's values). */
  noises: readonly Value[];
  /** The trained parameterisation's hooks; none builds the original generator. */
  hooks?: LayerHooks;
}

/** W+ → image [N, 3, size, size] in [-1, 1] (not clamped). */
export function synthesisNetwork(g: Graph, G: StyleGAN2, inputs: SynthesisInputs): Value {
  const P = prepare(G);
  const { ws, noises, hooks = {} } = inputs;
  const n = ws.shape[0]!;
  const layers = modulatedLayers(G);
  const convLayer = (k: number) => layers[k]!;
  const rgbLayer = (k: number) => layers[G.convs.length + k]!;
  const c4 = G.constInput.shape[0]!;
  const constInput = constant(g, { data: G.constInput.data, shape: [1, c4, 4, 4] });
  let x = expand(constInput, [n, c4, 4, 4]);

  const [conv1, ...rest] = G.convs;
  x = styledConv(g, G, P, conv1!, convLayer(0), x, latentRow(ws, 0), noises[0]!, hooks);
  let img = toRgb(g, G, P, G.toRgbs[0]!, rgbLayer(0), x, latentRow(ws, 1), undefined, hooks);
  for (let b = 0; b < rest.length / 2; b++) {
    const i = 2 * b + 1; // rosinality's latent index for this block
    x = styledConv(g, G, P, rest[2 * b]!, convLayer(2 * b + 1), x, latentRow(ws, i), noises[2 * b + 1]!, hooks);
    x = styledConv(g, G, P, rest[2 * b + 1]!, convLayer(2 * b + 2), x, latentRow(ws, i + 1), noises[2 * b + 2]!, hooks);
    img = toRgb(g, G, P, G.toRgbs[b + 1]!, rgbLayer(b + 1), x, latentRow(ws, i + 2), img, hooks);
  }
  return img;
}
