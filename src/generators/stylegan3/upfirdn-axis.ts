/**
 * upfirdn along one spatial axis: insert up−1 zeros after each sample, pad (negative crops), convolve with
 * the taps, keep every down-th sample, all as one depthwise convolution with a 1×k (or k×1) kernel and
 * stride `down` after the zero insertion. ONNX Runtime's blocked (NCHWc) depthwise kernel runs it at
 * memory speed when the channels are a multiple of 8 (filtered-lrelu.ts pads them once per layer); with
 * other channel counts it is correct but several times slower.
 *
 * Its gradient is the adjoint, again an upfirdn on the same axis (a composite op, Graph.composite). With
 * the taps g flipped for convolution, output o of a row is y[o] = Σᵢ x[i] · g[u·i + p₀ − d·o], so
 *   x̄[i] = Σₒ ȳ[o] · g[u·i + p₀ − d·o]
 * is upfirdn of ȳ with up d, down u, the taps reversed and p₀' = k − 1 − p₀ (so g'[d·o + p₀' − u·i] is the
 * same tap), ending where the input's `length` outputs are complete. For an upsampling pass that is one
 * strided convolution; the per-op rules would filter at the full rate and then slice the inserted zeros'
 * places away (a slow innermost-axis slice in ONNX Runtime).
 */
import type { Graph, Value } from '../../engine/graph.js';
import { concat, conv, reshape, slice, zeroInsert } from '../../engine/ops.js';

export interface AxisFir {
  /** The filter as convolved (it is flipped here), gain included. */
  taps: Float32Array;
  up: number;
  down: number;
  /** Padding before and after, in the upsampled signal; negative crops. */
  before: number;
  after: number;
}

/** Output length of upfirdn on `length` samples. */
export function upfirdnLength(length: number, f: AxisFir): number {
  return Math.floor((length * f.up + f.before + f.after - f.taps.length) / f.down) + 1;
}

/** The upfirdn whose output is the gradient of `f` on `length` samples, from its `out` outputs' cotangents. */
function adjoint(f: AxisFir, length: number, out: number): AxisFir {
  const k = f.taps.length;
  const before = k - 1 - f.before;
  return { taps: Float32Array.from(f.taps).reverse(), up: f.down, down: f.up, before, after: (length - 1) * f.up + k - out * f.down - before };
}

/** upfirdn of x [N, C, H, W] along axis 2 (H) or 3 (W). */
export function upfirdnAxis(g: Graph, x: Value, axis: 2 | 3, f: AxisFir): Value {
  const length = x.shape[axis]!;
  const out = upfirdnLength(length, f);
  if (out <= 0) throw new Error(`upfirdn: ${length} samples leave no output`);
  return g.composite([x], () => depthwise(g, x, axis, f), (gy) => [upfirdnAxis(g, gy, axis, adjoint(f, length, out))]);
}

const kernels = new Map<string, Float32Array>();

/**
 * A depthwise kernel's data: the taps flipped (a convolution correlates), once per channel. A 2-D filter's
 * row-major taps reversed are the filter flipped in both axes.
 */
export function depthwiseKernel(taps: Float32Array, channels: number): Float32Array {
  const key = `${channels}:${Array.from(taps).join(',')}`;
  let k = kernels.get(key);
  if (!k) {
    const flipped = Float32Array.from(taps).reverse();
    k = new Float32Array(channels * taps.length);
    for (let c = 0; c < channels; c++) k.set(flipped, c * taps.length);
    kernels.set(key, k);
  }
  return k;
}

function depthwise(g: Graph, x: Value, axis: 2 | 3, f: AxisFir): Value {
  if (f.up > 1 && f.down === 1) return polyphase(g, x, axis, f);
  const c = x.shape[1]!;
  let y = axis === 3 ? zeroInsert(x, 1, f.up) : zeroInsert(x, f.up, 1);
  const cropBefore = Math.max(-f.before, 0);
  const cropAfter = Math.max(-f.after, 0);
  if (cropBefore || cropAfter) y = slice(y, axis, cropBefore, y.shape[axis]! - cropAfter);
  const k = f.taps.length;
  const [before, after] = [Math.max(f.before, 0), Math.max(f.after, 0)];
  const weight = g.constant(depthwiseKernel(f.taps, c), axis === 3 ? [c, 1, 1, k] : [c, 1, k, 1]);
  return axis === 3
    ? conv(y, weight, { group: c, strides: [1, f.down], pads: [0, before, 0, after] })
    : conv(y, weight, { group: c, strides: [f.down, 1], pads: [before, 0, after, 0] });
}

/**
 * Upsampling without inserting zeros: output o = up·j + r reads only the taps τ ≡ p₀ − r (mod up) of the
 * correlated (flipped) filter, so phase r is a filter of about k/up taps over x itself,
 *   y[up·j + r] = Σₘ x[j + m − s_r] · w[up·m + q_r],   p₀ − r = up·s_r + q_r,  0 ≤ q_r < up,
 * and the phases are interleaved by a Concat. up times fewer multiply-adds than filtering the zero-inserted
 * signal, and no tensor of its size. The phases share one padding: each filter is placed at offset S − s_r of
 * a common length, S the largest s_r.
 */
function polyphase(g: Graph, x: Value, axis: 2 | 3, f: AxisFir): Value {
  const { up, taps } = f;
  const length = x.shape[axis]!;
  const out = upfirdnLength(length, f);
  const correlated = Float32Array.from(taps).reverse();
  const phases = Array.from({ length: up }, (_, r) => {
    const shift = Math.floor((f.before - r) / up);
    const first = f.before - r - up * shift;
    const own: number[] = [];
    for (let t = first; t < taps.length; t += up) own.push(correlated[t]!);
    return { shift, own };
  });
  const S = Math.max(...phases.map((p) => p.shift));
  const k = Math.max(...phases.map((p) => p.own.length + S - p.shift));
  const per = Math.ceil(out / up); // outputs per phase; the interleaved row is cropped to `out`
  let input = S < 0 ? slice(x, axis, -S, length) : x;
  const before = Math.max(S, 0);
  let after = per - 1 + k - input.shape[axis]! - before;
  if (after < 0) {
    input = slice(input, axis, 0, input.shape[axis]! + after);
    after = 0;
  }
  const c = x.shape[1]!;
  const rows = phases.map(({ shift, own }) => {
    const filter = new Float32Array(k);
    filter.set(own, S - shift);
    // depthwiseKernel flips its taps: give it the filter reversed to get the filter as correlated.
    const weight = g.constant(depthwiseKernel(filter.reverse(), c), axis === 3 ? [c, 1, 1, k] : [c, 1, k, 1]);
    const y = conv(input, weight, { group: c, pads: axis === 3 ? [0, before, 0, after] : [before, 0, after, 0] });
    const [n, , h, w] = y.shape as [number, number, number, number];
    return axis === 3 ? reshape(y, [n, c, h, w, 1]) : reshape(y, [n, c, h, 1, w]);
  });
  const [n, , h, w] = x.shape as [number, number, number, number];
  const interleaved = axis === 3 ? reshape(concat(rows, 4), [n, c, h, per * up]) : reshape(concat(rows, 3), [n, c, per * up, w]);
  return per * up === out ? interleaved : slice(interleaved, axis, 0, out);
}
