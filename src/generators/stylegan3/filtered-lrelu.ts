/**
 * StyleGAN3's filtered leaky ReLU as graph ops, following torch_utils/ops/filtered_lrelu.py's
 * `_filtered_lrelu_ref` (bias, upfirdn2d up, bias_act lrelu·gain + clamp, upfirdn2d down):
 *
 *   x + b → insert up−1 zeros after each sample → pad/crop by `padding` → FIR fu (gain up per axis)
 *     → leaky ReLU · gain → clamp → FIR fd → keep every down-th sample
 *
 * Separable filters run one axis at a time as depthwise convolutions (upfirdn-axis.ts); a radial (2-D)
 * downsampling filter runs as one depthwise conv with stride `down`. The layer's channels are padded with
 * zeros to a multiple of 8 first and sliced back at the end: ONNX Runtime's blocked depthwise kernel is
 * about 5x faster than its per-channel fallback, and the padding is paid at the layer's two small ends, not
 * at each filter pass. The activation gain rides on the upsampling filter (leaky ReLU is positively
 * homogeneous), saving a pass over the layer's largest tensor.
 *
 * The leaky ReLU and the clamp are one composite op: its gradient is the cotangent times a mask built from its
 * input alone (slope, 1 or 0 by the input's range), where the per-op rules also kept the leaky ReLU's output
 * and the clamp's comparison copy, each the size of the upsampled layer. The StyleGAN3-R 512 px step's peak RSS
 * fell from 14.2 to 13.3 GB; its live peak did not, as ONNX Runtime still builds the mask after the cotangent.
 * (Making the downsampling's adjoint wait for the mask lowered the modelled peak but raised the measured one.)
 *
 * Every step after the conv treats each channel on its own, so the backward pass runs in groups of channels,
 * one after another, each rebuilding its part of the upsampled tensor. Whole, a layer's backward pass holds
 * about five tensors of the upsampled size (the adjoint's zero insertion and output, the pre-activation, the
 * mask, their product): about 14 GiB for StyleGAN3-R's 1024 px layer 10, whose step then did not fit in 24 GiB.
 */
import { grad } from '../../engine/grad.js';
import type { Graph, Value } from '../../engine/graph.js';
import { add, cast, clip, concat, conv, equal, greater, leakyRelu, mul, pad, slice, zeroAfter } from '../../engine/ops.js';
import type { Fir } from './architecture.js';
import { depthwiseKernel, upfirdnAxis, upfirdnLength } from './upfirdn-axis.js';

export interface FilteredLreluSpec {
  up: number;
  down: number;
  /** [x0, x1, y0, y1] on the upsampled image; negative crops. */
  padding: readonly [number, number, number, number];
  /** Separable taps [k], or null for none. */
  upFilter: Fir;
  /** Separable taps [k], a radial filter [k, k], or null for none. */
  downFilter: Fir;
  gain: number;
  slope: number;
  clamp: number | null;
}

const IDENTITY = Float32Array.of(1);
const CHANNEL_BLOCK = 8;
/**
 * The upsampled tensor of one channel group in the backward pass. Small, because ONNX Runtime's planner hands a
 * buffer one group frees to the same-sized value of the next group, so each of a group's twenty or so
 * intermediates stays allocated until the next group reaches it. StyleGAN3-R 512 px, above the VJP's inputs:
 * 5856 MiB whole, 1956 MiB in 128 MiB groups, 1322 MiB in 64 MiB ones (and 30 instead of 36 s).
 */
const GROUP_BYTES = 64 * 2 ** 20;

function upsample(g: Graph, x: Value, s: FilteredLreluSpec): Value {
  const [px0, px1, py0, py1] = s.padding;
  const f = s.upFilter;
  if (!f && s.up === 1 && s.padding.every((p) => p === 0)) return s.gain === 1 ? x : mul(x, s.gain);
  if (f && f.shape.length !== 1) throw new Error('filtered_lrelu: a 2-D upsampling filter is not supported (StyleGAN3 designs separable ones)');
  const taps = f ? f.data : IDENTITY;
  const gain = f ? s.up : 1; // upfirdn2d's gain up² for 2-D, split over the two axes
  const alongX = upfirdnAxis(g, x, 3, { taps: taps.map((t) => t * gain * s.gain), up: s.up, down: 1, before: px0, after: px1 });
  return upfirdnAxis(g, alongX, 2, { taps: taps.map((t) => t * gain), up: s.up, down: 1, before: py0, after: py1 });
}

/** Depthwise stride-`down` conv with the flipped 2-D filter. */
function radialDownsample(g: Graph, x: Value, f: NonNullable<Fir>, down: number): Value {
  const c = x.shape[1]!;
  return conv(x, g.constant(depthwiseKernel(f.data, c), [c, 1, f.shape[0]!, f.shape[1]!]), { group: c, strides: [down, down] });
}

function downsample(g: Graph, x: Value, s: FilteredLreluSpec): Value {
  const f = s.downFilter;
  if (f && f.shape.length === 2) return radialDownsample(g, x, f, s.down);
  if (!f && s.down === 1) return x;
  const taps = f ? f.data : IDENTITY;
  const axis = { taps, up: 1, down: s.down, before: 0, after: 0 };
  return upfirdnAxis(g, upfirdnAxis(g, x, 3, axis), 2, axis);
}

/** clamp(leaky ReLU(x)) with the gradient mask of x: slope on [−clamp/slope, 0], 1 on (0, clamp], 0 elsewhere. */
function activation(g: Graph, x: Value, slope: number, clamp: number | null): Value {
  if (slope === 1 && clamp === null) return x;
  if (!(slope > 0 && slope <= 1)) throw new Error(`filtered_lrelu: a slope of ${slope} is not supported (0 < slope ≤ 1)`);
  const forward = () => {
    const y = slope === 1 ? x : leakyRelu(x, slope);
    return clamp === null ? y : clip(y, -clamp, clamp);
  };
  return g.composite([x], forward, (gy) => {
    // torch's rules: leaky ReLU passes 1 where x > 0, else the slope; clamp passes where lo ≤ y ≤ hi.
    const sloped = slope === 1 ? undefined : clip(cast(greater(x, 0), 'float32'), slope, 1);
    const kept = clamp === null ? undefined : cast(equal(clip(x, -clamp / slope, clamp), x), 'float32');
    const mask = sloped && kept ? mul(sloped, kept) : (sloped ?? kept)!;
    return [mul(gy, mask)];
  });
}

/** bias, upsampling (× gain), activation, downsampling: [N, C, H, W] → [N, C, H', W'], each channel on its own. */
function perChannel(g: Graph, x: Value, bias: Float32Array, s: FilteredLreluSpec): Value {
  const y = add(x, g.constant(bias, [1, bias.length, 1, 1]));
  return downsample(g, activation(g, upsample(g, y, s), s.slope, s.clamp), s);
}

/** The upsampled length of `length` samples along an axis padded by `before` and `after`. */
function upsampledLength(length: number, s: FilteredLreluSpec, before: number, after: number): number {
  return upfirdnLength(length, { taps: s.upFilter?.data ?? IDENTITY, up: s.up, down: 1, before, after });
}

/**
 * perChannel, differentiated in groups of whole channel blocks whose upsampled tensor fits in `groupBytes`.
 * Each group reads its slices of x and of the cotangent through a zero of the previous group's gradient, so
 * that ONNX Runtime cannot run the groups side by side.
 */
function grouped(g: Graph, x: Value, bias: Float32Array, s: FilteredLreluSpec, groupBytes: number): Value {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [px0, px1, py0, py1] = s.padding;
  const channelBytes = 4 * n * upsampledLength(h, s, py0, py1) * upsampledLength(w, s, px0, px1);
  const size = Math.max(1, Math.floor(groupBytes / (channelBytes * CHANNEL_BLOCK))) * CHANNEL_BLOCK;
  if (size >= c) return perChannel(g, x, bias, s);
  return g.composite([x], () => perChannel(g, x, bias, s), (gy) => {
    const grads: Value[] = [];
    let zero = zeroAfter(gy);
    for (let a = 0; a < c; a += size) {
      const b = Math.min(a + size, c);
      const part = add(slice(x, 1, a, b), zero);
      const [gx] = grad(perChannel(g, part, bias.subarray(a, b), s), [part], add(slice(gy, 1, a, b), zero));
      grads.push(gx!);
      zero = zeroAfter(gx!);
    }
    return [concat(grads, 1)];
  });
}

/**
 * x [N, C, H, W] (the modulated conv's output), bias [C] → [N, C, H', W']. `groupBytes`: the size of the
 * backward pass's channel groups (GROUP_BYTES).
 */
export function filteredLrelu(g: Graph, x: Value, bias: Float32Array, s: FilteredLreluSpec, groupBytes = GROUP_BYTES): Value {
  const c = bias.length;
  const padded = Math.ceil(c / CHANNEL_BLOCK) * CHANNEL_BLOCK;
  const paddedBias = padded === c ? bias : Float32Array.from({ length: padded }, (_, i) => bias[i] ?? 0);
  const y = grouped(g, padded === c ? x : pad(x, [0, 0, 0, 0, 0, padded - c, 0, 0]), paddedBias, s, groupBytes);
  return padded === c ? y : slice(y, 1, 0, c);
}
