/**
 * StyleGAN3's filtered leaky ReLU as graph ops, following torch_utils/ops/filtered_lrelu.py's
 * `_filtered_lrelu_ref` (bias, upfirdn2d up, bias_act lrelu·gain + clamp, upfirdn2d down):
 *
 *   x + b → insert up−1 zeros after each sample → pad/crop by `padding` → FIR fu (gain up per axis)
 *     → leaky ReLU · gain → clamp → FIR fd → keep every down-th sample
 *
 * The activation gain rides on the upsampling filter (leaky ReLU is positively homogeneous), which saves
 * a pass over the largest tensor of the layer.
 *
 * Separable filters run as two depthwise 1-D convs per stage (the zeros inserted one axis at a time,
 * so the second pass never convolves rows that are all zeros); a radial (2-D) filter as one depthwise
 * 2-D conv. Downsampling is the FIR conv with stride `down`, so the discarded samples are never computed.
 * The filters are flipped: upfirdn2d convolves (flip_filter=False), ONNX Conv correlates.
 */
import type { Graph, Value } from '../../engine/graph.js';
import { add, clip, conv, leakyRelu, mul, pad, reshape, slice } from '../../engine/ops.js';
import type { Fir } from './architecture.js';

export interface FilteredLreluSpec {
  up: number;
  down: number;
  /** [x0, x1, y0, y1] on the upsampled image; negative crops. */
  padding: readonly [number, number, number, number];
  upFilter: Fir;
  downFilter: Fir;
  gain: number;
  slope: number;
  clamp: number | null;
}

const AXIS = { y: 2, x: 3 } as const;

/** Inserts `factor − 1` zeros after every sample along one spatial axis. */
function zeroInsert(x: Value, axis: 2 | 3, factor: number): Value {
  if (factor === 1) return x;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (axis === AXIS.x) return reshape(pad(reshape(x, [n, c, h, w, 1]), [0, 0, 0, 0, 0, 0, 0, 0, 0, factor - 1]), [n, c, h, w * factor]);
  return reshape(pad(reshape(x, [n, c, h, 1, w]), [0, 0, 0, 0, 0, 0, 0, 0, factor - 1, 0]), [n, c, h * factor, w]);
}

/** Crops negative pads along one axis and returns what is left to pad (≥ 0) before and after. */
function cropAxis(x: Value, axis: 2 | 3, before: number, after: number): { x: Value; before: number; after: number } {
  const len = x.shape[axis]!;
  const start = Math.max(-before, 0);
  const end = len - Math.max(-after, 0);
  return { x: slice(x, axis, start, end), before: Math.max(before, 0), after: Math.max(after, 0) };
}

/** Zero pads beyond what a k-tap conv may take itself (its VJP needs pads ≤ k − 1). */
function padBeyond(x: Value, axis: 2 | 3, before: number, after: number, taps: number): { x: Value; before: number; after: number } {
  const extraBefore = Math.max(before - (taps - 1), 0);
  const extraAfter = Math.max(after - (taps - 1), 0);
  if (extraBefore === 0 && extraAfter === 0) return { x, before, after };
  const pads = [0, 0, 0, 0, 0, 0, 0, 0];
  pads[axis] = extraBefore;
  pads[axis + 4] = extraAfter;
  return { x: pad(x, pads), before: before - extraBefore, after: after - extraAfter };
}

/** The filter flipped, scaled and repeated per channel: [C, 1, kh, kw]. */
function depthwiseKernel(f: Float32Array, channels: number, gain: number): Float32Array {
  const out = new Float32Array(channels * f.length);
  for (let i = 0; i < f.length; i++) out[f.length - 1 - i] = f[i]! * gain; // reversed row-major = flipped in both axes
  for (let c = 1; c < channels; c++) out.copyWithin(c * f.length, 0, f.length);
  return out;
}

/** Host-side depthwise kernels, built once per filter and channel count and shared by every graph. */
const kernelCache = new WeakMap<Float32Array, Map<string, Float32Array>>();

function kernel(g: Graph, f: Float32Array, shape: [number, number], channels: number, gain: number): Value {
  let byKey = kernelCache.get(f);
  if (!byKey) kernelCache.set(f, (byKey = new Map()));
  const key = `${shape.join('x')}:${channels}:${gain}`;
  let data = byKey.get(key);
  if (!data) byKey.set(key, (data = depthwiseKernel(f, channels, gain)));
  return g.constant(data, [channels, 1, shape[0], shape[1]]);
}

const IDENTITY = Float32Array.of(1);

/** 1-D FIR along one axis after zero insertion and padding; `gain` per axis. */
function upfirAxis(g: Graph, x: Value, axis: 2 | 3, taps: Float32Array, up: number, before: number, after: number, gain: number): Value {
  const c = x.shape[1]!;
  let r = cropAxis(zeroInsert(x, axis, up), axis, before, after);
  r = padBeyond(r.x, axis, r.before, r.after, taps.length);
  const shape: [number, number] = axis === AXIS.x ? [1, taps.length] : [taps.length, 1];
  const pads: [number, number, number, number] = axis === AXIS.x ? [0, r.before, 0, r.after] : [r.before, 0, r.after, 0];
  return conv(r.x, kernel(g, taps, shape, c, gain), { pads, group: c });
}

/** Upsampling with the activation gain folded into the filter (lrelu(g·x) = g·lrelu(x) for g > 0). */
function upsample(g: Graph, x: Value, s: FilteredLreluSpec): Value {
  const [px0, px1, py0, py1] = s.padding;
  const f = s.upFilter;
  if (!f && s.up === 1 && s.padding.every((p) => p === 0)) return s.gain === 1 ? x : mul(x, s.gain);
  if (f && f.shape.length === 2) {
    const c = x.shape[1]!;
    let r = cropAxis(zeroInsert(zeroInsert(x, AXIS.x, s.up), AXIS.y, s.up), AXIS.x, px0, px1);
    const rx = padBeyond(r.x, AXIS.x, r.before, r.after, f.shape[1]!);
    r = cropAxis(rx.x, AXIS.y, py0, py1);
    const ry = padBeyond(r.x, AXIS.y, r.before, r.after, f.shape[0]!);
    const pads: [number, number, number, number] = [ry.before, rx.before, ry.after, rx.after];
    return conv(ry.x, kernel(g, f.data, [f.shape[0]!, f.shape[1]!], c, s.up * s.up * s.gain), { pads, group: c });
  }
  const taps = f ? f.data : IDENTITY;
  const gain = f ? s.up : 1;
  return upfirAxis(g, upfirAxis(g, x, AXIS.x, taps, s.up, px0, px1, gain), AXIS.y, taps, s.up, py0, py1, gain * s.gain);
}

function downsample(g: Graph, x: Value, s: FilteredLreluSpec): Value {
  const c = x.shape[1]!;
  const f = s.downFilter;
  if (f && f.shape.length === 2) {
    return conv(x, kernel(g, f.data, [f.shape[0]!, f.shape[1]!], c, 1), { group: c, strides: [s.down, s.down] });
  }
  if (!f && s.down === 1) return x;
  const taps = f ? f.data : IDENTITY;
  const alongX = conv(x, kernel(g, taps, [1, taps.length], c, 1), { group: c, strides: [1, s.down] });
  return conv(alongX, kernel(g, taps, [taps.length, 1], c, 1), { group: c, strides: [s.down, 1] });
}

/** x [N, C, H, W] (the modulated conv's output), bias [C] → [N, C, H', W']. */
export function filteredLrelu(g: Graph, x: Value, bias: Float32Array, s: FilteredLreluSpec): Value {
  let y = add(x, g.constant(bias, [1, bias.length, 1, 1]));
  y = upsample(g, y, s); // × gain
  if (s.slope !== 1) y = leakyRelu(y, s.slope);
  if (s.clamp !== null) y = clip(y, -s.clamp, s.clamp);
  return downsample(g, y, s);
}
