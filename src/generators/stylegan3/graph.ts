/**
 * StyleGAN3 as graph builders, written to be read next to NVlabs/stylegan3 training/networks_stylegan3.py.
 *
 * SynthesisLayer (modulated_conv2d + filtered_lrelu), with the weights constant and the batch free:
 *   s  = hooks.style(affine(w))  [N, in]           (ToRGB: × 1/sqrt(in·k²), no normalisation)
 *   s' = s · rsqrt(mean(s²))                        pre-normalised per sample (see below)
 *   W' = W · rsqrt(mean over [in, k, k] of W²)     host-side
 *   x' = x · s' · g · c                            g = magnitude_ema^-½, c = hooks.inputScale (1 + d)
 *   y  = conv(x', W', pad k−1) · rsqrt(s'² @ ΣₖW'² + 1e-8)   demodulated from s' alone
 * then filtered_lrelu (filtered-lrelu.ts). Demodulating from s' without g and c equals the reference's
 * weight · dcoefs · input_gain, and the domain vector's weight · (1 + d) after both.
 * The reference normalises s by the mean square over the whole batch; that scalar cancels in
 * demodulation up to the 1e-8, so it is taken per sample here and an image does not depend on its batch.
 */
import type { Graph, Value } from '../../engine/graph.js';
import {
  add, clip, concat, conv, div, matmul, mul, neg, reduceMean, reduceSum, reshape, rsqrt, sin, slice, sqrt, square, sub,
} from '../../engine/ops.js';
import { transpose2d, type Tensor } from '../../core/tensor.js';
import type { LayerHooks, LayerStage, ModulatedLayer } from '../family.js';
import { latentRow, styleMapping } from '../style-graph.js';
import type { DenseWeights, StyleGAN3, SynthesisInputWeights, SynthesisLayerWeights } from './architecture.js';
import { filteredLrelu } from './filtered-lrelu.js';

const SQRT2 = Math.SQRT2;

interface PreparedLayer {
  /** W' [out, in, k, k] */
  weight: Tensor;
  /** [in, out] of Σₖ W'² */
  weightSqT: Tensor;
}

interface Prepared {
  dense: WeakMap<DenseWeights, Tensor>;
  layers: WeakMap<SynthesisLayerWeights, PreparedLayer>;
  /** [1, 1, 1, W] and [1, 1, H, 1]: 2π × the sampling grid's x and y. */
  gridX: Tensor;
  gridY: Tensor;
}

const preparedCache = new WeakMap<StyleGAN3, Prepared>();

function prepareLayer(l: SynthesisLayerWeights): PreparedLayer {
  const [o, i, kh, kw] = l.weight.shape as [number, number, number, number];
  const per = i * kh * kw;
  const w = new Float32Array(l.weight.data.length);
  const sqT = new Float32Array(i * o);
  for (let a = 0; a < o; a++) {
    let ms = 0;
    for (let t = 0; t < per; t++) ms += l.weight.data[a * per + t]! ** 2;
    const scale = l.isToRgb ? 1 : 1 / Math.sqrt(ms / per);
    for (let t = 0; t < per; t++) w[a * per + t] = l.weight.data[a * per + t]! * scale;
    for (let b = 0; b < i; b++) {
      let s = 0;
      for (let t = 0; t < kh * kw; t++) s += w[(a * i + b) * kh * kw + t]! ** 2;
      sqT[b * o + a] = s;
    }
  }
  return { weight: { data: w, shape: [o, i, kh, kw] }, weightSqT: { data: sqT, shape: [i, o] } };
}

/** torch affine_grid(align_corners=False) with theta diag(0.5·size/rate): ((2j + 1)/size − 1) · 0.5·size/rate, × 2π. */
function gridAxis(size: number, rate: number): Float32Array {
  return Float32Array.from({ length: size }, (_, j) => ((2 * j + 1) / size - 1) * ((0.5 * size) / rate) * 2 * Math.PI);
}

function prepare(G: StyleGAN3): Prepared {
  let p = preparedCache.get(G);
  if (p) return p;
  const { size, samplingRate } = G.input;
  p = {
    dense: new WeakMap(),
    layers: new WeakMap(),
    gridX: { data: gridAxis(size, samplingRate), shape: [1, 1, 1, size] },
    gridY: { data: gridAxis(size, samplingRate), shape: [1, 1, size, 1] },
  };
  for (const d of [...G.mapping, G.input.affine, ...G.layers.map((l) => l.affine)]) p.dense.set(d, transpose2d(d.weight));
  for (const l of G.layers) p.layers.set(l, prepareLayer(l));
  preparedCache.set(G, p);
  return p;
}

function constant(g: Graph, t: Tensor): Value {
  return g.constant(t.data, t.shape);
}

/** x [N, in] → x @ Wᵀ + b  [N, out] */
function dense(g: Graph, P: Prepared, d: DenseWeights, x: Value): Value {
  return add(matmul(x, constant(g, P.dense.get(d)!)), g.constant(d.bias, [d.bias.length]));
}

/** z [N, zDim] → w [N, wDim] (style-graph.ts). */
export function mappingNetwork(g: Graph, G: StyleGAN3, z: Value): Value {
  const P = prepare(G);
  return styleMapping(z, G.mapping.length, (i, x) => dense(g, P, G.mapping[i]!, x));
}


const column = (x: Value, i: number) => slice(x, 1, i, i + 1); // [N, k] → [N, 1]

/**
 * SynthesisInput: Fourier features [N, C, size, size] whose frequencies and phases are turned by the
 * learned rotation/translation of w (inverse wrt. the image) and then by the user's inverse transform.
 */
function synthesisInput(g: Graph, P: Prepared, inp: SynthesisInputWeights, w: Value): Value {
  const n = w.shape[0]!;
  const c = inp.channels;
  const t = dense(g, P, inp.affine, w); // [N, 4] = (r_c, r_s, t_x, t_y)
  const norm = sqrt(reduceSum(square(slice(t, 1, 0, 2)), [1], true)); // [N, 1]
  const [rc, rs, tx, ty] = [0, 1, 2, 3].map((i) => div(column(t, i), norm)) as [Value, Value, Value, Value];
  // Rows 0 and 1 of m_r @ m_t: [[rc, −rs, −rc·tx + rs·ty], [rs, rc, −rs·tx − rc·ty]], then @ transform.
  const rotTrans = reshape(
    concat([rc, neg(rs), sub(mul(rs, ty), mul(rc, tx)), rs, rc, neg(add(mul(rs, tx), mul(rc, ty)))], 1),
    [n, 2, 3],
  );
  const m = matmul(rotTrans, g.constant(inp.transform, [3, 3])); // [N, 2, 3]
  const freqsConst = constant(g, inp.freqs); // [C, 2]
  const freqs = matmul(freqsConst, slice(m, 2, 0, 2)); // [N, C, 2]
  const phases = add(g.constant(inp.phases, [1, c]), reshape(matmul(freqsConst, slice(m, 2, 2, 3)), [n, c])); // [N, C]
  // Dampen the out-of-band frequencies a user transform may bring in.
  const radius = sqrt(reduceSum(square(freqs), [2])); // [N, C]
  const amplitudes = clip(sub(1, div(sub(radius, inp.bandwidth), inp.samplingRate / 2 - inp.bandwidth)), 0, 1);
  const P4 = (v: Value) => reshape(v, [n, c, 1, 1]);
  const fx = P4(slice(freqs, 2, 0, 1));
  const fy = P4(slice(freqs, 2, 1, 2));
  const arg = add(add(mul(fx, constant(g, P.gridX)), mul(fy, constant(g, P.gridY))), P4(mul(phases, 2 * Math.PI)));
  const features = mul(sin(arg), P4(amplitudes)); // [N, C, H, W]
  return conv(features, g.constant(inp.weight.data, [c, c, 1, 1]));
}

function synthesisLayer(
  g: Graph, G: StyleGAN3, P: Prepared, layer: SynthesisLayerWeights, me: ModulatedLayer, x: Value, w: Value, hooks: LayerHooks, stage: LayerStage,
): Value {
  const n = x.shape[0]!;
  const prepared = P.layers.get(layer)!;
  const affine = dense(g, P, layer.affine, w);
  let style = hooks.style?.(me, affine) ?? affine; // [N, in]
  if (!layer.isToRgb) style = mul(style, rsqrt(reduceMean(square(style), [1], true)));
  const inputGain = 1 / Math.sqrt(layer.magnitudeEma);
  const scale = hooks.inputScale?.(me);
  const modulation = mul(scale ? mul(style, scale) : style, inputGain); // [N, in]
  const k = layer.convKernel;
  const body = ([x, style, modulation]: readonly Value[]) => {
    let y = conv(mul(x!, reshape(modulation!, [n, layer.inChannels, 1, 1])), constant(g, prepared.weight), { pads: [k - 1, k - 1, k - 1, k - 1] });
    if (!layer.isToRgb) {
      const demod = rsqrt(add(matmul(square(style!), constant(g, prepared.weightSqT)), 1e-8)); // [N, out]
      y = mul(y, reshape(demod, [n, layer.outChannels, 1, 1]));
    }
    return filteredLrelu(g, y, layer.bias, {
      up: layer.up,
      down: layer.down,
      padding: layer.padding,
      upFilter: layer.upFilter,
      downFilter: layer.downFilter,
      gain: layer.isToRgb ? 1 : SQRT2,
      slope: layer.isToRgb ? 1 : 0.2,
      clamp: G.convClamp,
    });
  };
  return stage(layer.name, [x, style, modulation], [n, layer.outChannels, layer.outSize, layer.outSize], body);
}

/** Every SynthesisLayer as parameterisations see it: the final ToRGB as `torgb`, the rest as `conv`. */
export function modulatedLayers(G: StyleGAN3): ModulatedLayer[] {
  return G.layers.map((l) => ({
    name: l.name,
    role: l.isToRgb ? ('torgb' as const) : ('conv' as const),
    inChannels: l.inChannels,
    resolution: l.outSize,
    styled: true,
  }));
}

export interface SynthesisInputs {
  /** W+ [N, nLatent, wDim] */
  ws: Value;
  hooks?: LayerHooks;
  stage?: LayerStage;
}

const buildLayer: LayerStage = (_layer, inputs, _shape, build) => build(inputs);

/** W+ → image [N, 3, size, size] (not clamped): ws[0] drives the input, ws[1 + i] layer i. */
export function synthesisNetwork(g: Graph, G: StyleGAN3, { ws, hooks = {}, stage = buildLayer }: SynthesisInputs): Value {
  const P = prepare(G);
  const layers = modulatedLayers(G);
  let x = synthesisInput(g, P, G.input, latentRow(ws, 0));
  G.layers.forEach((layer, i) => {
    x = synthesisLayer(g, G, P, layer, layers[i]!, x, latentRow(ws, i + 1), hooks, stage);
  });
  return G.outputScale === 1 ? x : mul(x, G.outputScale);
}
