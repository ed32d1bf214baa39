/**
 * Vector-Jacobian products, one rule per op: given the cotangents of a node's outputs, build the
 * cotangents of its inputs with the same op builders. Rules return undefined for inputs that need none.
 * Convolution gradients are convolutions with the flipped, transposed (constant) kernel: ConvTranspose
 * runs 7x slower in ONNX Runtime (DESIGN.md §2).
 */
import type { Node, Value } from './graph.js';
import {
  add, cast, clip, conv, equal, depthToSpace, div, expand, greater, matmul, mul, neg, pad, reduceMean, reduceSum, reshape,
  sin, slice, sub, transpose, where, rsqrt, square, zeroAfter, zeroInsert,
} from './ops.js';
import { numel } from '../core/tensor.js';

export type VjpRule = (node: Node, gys: ReadonlyArray<Value | undefined>, needs: readonly boolean[]) => Array<Value | undefined>;

/** Sums a broadcast cotangent back down to `shape`. */
export function sumTo(g: Value, shape: readonly number[]): Value {
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  if (axes.length === 0) return g;
  return reshape(reduceSum(g, axes, true), shape);
}

function inverse(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

function swapLast(x: Value): Value {
  const r = x.shape.length;
  return transpose(x, [...x.shape.map((_, i) => i).slice(0, r - 2), r - 1, r - 2]);
}

/** Weight [O, C/G, kh, kw] → the kernel of the input gradient, [C, O/G, kh, kw], flipped in space. */
function flippedTransposedKernel(data: Float32Array, shape: readonly number[], group: number): Float32Array {
  const [o, cg, kh, kw] = shape as [number, number, number, number];
  const og = o / group;
  const out = new Float32Array(data.length);
  for (let gi = 0; gi < group; gi++) {
    for (let a = 0; a < og; a++) {
      for (let c = 0; c < cg; c++) {
        for (let y = 0; y < kh; y++) {
          for (let x = 0; x < kw; x++) {
            const src = (((gi * og + a) * cg + c) * kh + y) * kw + x;
            const dst = (((gi * cg + c) * og + a) * kh + (kh - 1 - y)) * kw + (kw - 1 - x);
            out[dst] = data[src]!;
          }
        }
      }
    }
  }
  return out;
}

const g0 = (gys: ReadonlyArray<Value | undefined>) => gys[0]!;

export const vjpRules: Record<string, VjpRule> = {
  Identity: (_n, gys) => [g0(gys)],
  Add: (n, gys) => [sumTo(g0(gys), n.inputs[0]!.shape), sumTo(g0(gys), n.inputs[1]!.shape)],
  Sub: (n, gys, needs) => [sumTo(g0(gys), n.inputs[0]!.shape), needs[1] ? sumTo(neg(g0(gys)), n.inputs[1]!.shape) : undefined],
  Mul: (n, gys, needs) => {
    const [a, b] = n.inputs as [Value, Value];
    return [needs[0] ? sumTo(mul(g0(gys), b), a.shape) : undefined, needs[1] ? sumTo(mul(g0(gys), a), b.shape) : undefined];
  },
  Div: (n, gys, needs) => {
    const [a, b] = n.inputs as [Value, Value];
    const y = n.outputs[0]!;
    const ga = div(g0(gys), b);
    return [needs[0] ? sumTo(ga, a.shape) : undefined, needs[1] ? sumTo(neg(mul(ga, y)), b.shape) : undefined];
  },
  Neg: (_n, gys) => [neg(g0(gys))],
  Sqrt: (n, gys) => [div(mul(g0(gys), 0.5), n.outputs[0]!)],
  Reciprocal: (n, gys) => [neg(mul(g0(gys), square(n.outputs[0]!)))],
  Exp: (n, gys) => [mul(g0(gys), n.outputs[0]!)],
  // cos x = sin(x + π/2): no Cos op needed.
  Sin: (n, gys) => [mul(g0(gys), sin(add(n.inputs[0]!, Math.PI / 2)))],
  Sigmoid: (n, gys) => {
    const y = n.outputs[0]!;
    return [mul(g0(gys), mul(y, sub(1, y)))];
  },
  // These sit on every activation of the generator's backward pass. The slope is read off the output
  // (for α ≥ 0 it has the input's sign), so the pre-activation need not be kept for the backward pass,
  // and is built as Cast + Clip, not Where: ONNX Runtime's Where runs about 2x slower than the two.
  LeakyRelu: (n, gys) => {
    const alpha = (n.attrs.alpha as { float: number }).float;
    if (!(alpha >= 0 && alpha <= 1)) throw new Error(`grad: LeakyRelu slopes outside [0, 1] are not supported (alpha ${alpha})`);
    const g = g0(gys);
    return [mul(g, clip(cast(greater(n.outputs[0]!, zeroAfter(g)), 'float32'), alpha, 1))];
  },
  // 1 where lo ≤ x ≤ hi (torch's clamp gradient), as clip(x) = x: ONNX Runtime's Where with scalar branches
  // ran over 10x slower than Clip + Equal + Cast on StyleGAN3's activations.
  Clip: (n, gys) => {
    const [x, lo, hi] = n.inputs as [Value, Value, Value];
    const g = g0(gys);
    const zero = zeroAfter(g);
    return [mul(g, cast(equal(clip(x, add(lo, zero), add(hi, zero)), x), 'float32'))];
  },
  Where: (n, gys, needs) => {
    const [cond, a, b] = n.inputs as [Value, Value, Value];
    const g = g0(gys);
    return [
      undefined,
      needs[1] ? sumTo(where(cond, g, 0), a.shape) : undefined,
      needs[2] ? sumTo(where(cond, 0, g), b.shape) : undefined,
    ];
  },
  MatMul: (n, gys, needs) => {
    const [a, b] = n.inputs as [Value, Value];
    const g = g0(gys);
    return [
      needs[0] ? sumTo(matmul(g, swapLast(b)), a.shape) : undefined,
      needs[1] ? sumTo(matmul(swapLast(a), g), b.shape) : undefined,
    ];
  },
  // A strided conv's input gradient is the stride-1 one applied to the cotangent with zeros inserted
  // between its samples (stride − 1 after each); the trailing zeros and the input rows the last window
  // never reached (r) set the end padding. Padding beyond k − 1 makes outputs that read only zeros;
  // their cotangent reaches no input, so it is cropped (a negative padding of the adjoint conv).
  Conv: (n, gys, needs) => {
    const [x, w] = n.inputs as [Value, Value];
    if (needs[1]) throw new Error('grad: Conv weights are frozen constants; no gradient with respect to a weight');
    const init = w.graph.initializers.get(w.id);
    if (!init) throw new Error('grad: Conv needs a constant weight to differentiate through');
    const [pt, pl] = n.attrs.pads as number[] as [number, number, number, number];
    const [sh, sw] = (n.attrs.strides as number[] | undefined) ?? [1, 1];
    const group = n.attrs.group as number;
    const [o, cg, kh, kw] = w.shape as [number, number, number, number];
    const [, , h, wd] = x.shape as [number, number, number, number];
    const [, , hy, wy] = n.outputs[0]!.shape as [number, number, number, number];
    // End padding of the stride-1 conv over the zero-inserted cotangent (length hy·sh): r + k − 1 − pad − (s − 1).
    const endH = h + pt - (hy - 1) * sh - 1 - (sh - 1);
    const endW = wd + pl - (wy - 1) * sw - 1 - (sw - 1);
    const beginH = kh - 1 - pt;
    const beginW = kw - 1 - pl;
    let gy = zeroInsert(g0(gys), sh, sw);
    if (endH < 0) gy = slice(gy, 2, 0, gy.shape[2]! + endH);
    if (endW < 0) gy = slice(gy, 3, 0, gy.shape[3]! + endW);
    if (beginH < 0) gy = slice(gy, 2, -beginH, gy.shape[2]!);
    if (beginW < 0) gy = slice(gy, 3, -beginW, gy.shape[3]!);
    const kernel = x.graph.constant(
      flippedTransposedKernel(init.data as Float32Array, w.shape, group),
      [cg * group, o / group, kh, kw],
    );
    const pads: [number, number, number, number] = [Math.max(beginH, 0), Math.max(beginW, 0), Math.max(endH, 0), Math.max(endW, 0)];
    return [conv(gy, kernel, { pads, group }), undefined];
  },
  Reshape: (n, gys) => [reshape(g0(gys), n.inputs[0]!.shape), undefined],
  Transpose: (n, gys) => [transpose(g0(gys), inverse(n.attrs.perm as number[]))],
  ReduceSum: (n, gys) => {
    const x = n.inputs[0]!;
    return [expand(reshape(g0(gys), keptShape(x.shape, constInts(n.inputs[1]!))), x.shape), undefined];
  },
  ReduceMean: (n, gys) => {
    const x = n.inputs[0]!;
    const axes = n.attrs.axes as number[];
    const count = numel(x.shape) / numel(n.outputs[0]!.shape);
    return [expand(reshape(mul(g0(gys), 1 / count), keptShape(x.shape, axes)), x.shape)];
  },
  Expand: (n, gys) => [sumTo(g0(gys), n.inputs[0]!.shape), undefined],
  Concat: (n, gys) => {
    const axis = n.attrs.axis as number;
    let at = 0;
    return n.inputs.map((x) => {
      const part = slice(g0(gys), axis, at, at + x.shape[axis]!);
      at += x.shape[axis]!;
      return part;
    });
  },
  Slice: (n, gys) => {
    const x = n.inputs[0]!;
    const y = n.outputs[0]!;
    const axis = y.shape.findIndex((d, i) => d !== x.shape[i]);
    const start = constInts(n.inputs[1]!)[0]!;
    const r = x.shape.length;
    const pads = new Array<number>(2 * r).fill(0);
    pads[axis] = start;
    pads[axis + r] = x.shape[axis]! - start - y.shape[axis]!;
    return [pad(g0(gys), pads), undefined, undefined, undefined];
  },
  Pad: (n, gys) => {
    const x = n.inputs[0]!;
    const r = x.shape.length;
    const pads = constInts(n.inputs[1]!);
    let g = g0(gys);
    for (let i = 0; i < r; i++) g = slice(g, i, pads[i]!, pads[i]! + x.shape[i]!);
    return [g, undefined];
  },
  SpaceToDepth: (n, gys) => [depthToSpace(g0(gys), n.attrs.blocksize as number)],
  Softmax: (n, gys) => {
    const y = n.outputs[0]!;
    const axis = n.attrs.axis as number;
    const g = g0(gys);
    return [mul(y, sub(g, reduceSum(mul(g, y), [axis], true)))];
  },
  LayerNormalization: (n, gys, needs) => {
    if (needs[1] || needs[2]) throw new Error('grad: LayerNorm scale and bias are frozen; no gradient for them');
    const [x, scale] = n.inputs as [Value, Value];
    const eps = (n.attrs.epsilon as { float: number }).float;
    const centred = sub(x, reduceMean(x, [-1], true));
    const rstd = rsqrt(add(reduceMean(square(centred), [-1], true), eps));
    const xhat = mul(centred, rstd);
    const gxhat = mul(g0(gys), scale);
    const inner = sub(sub(gxhat, reduceMean(gxhat, [-1], true)), mul(xhat, reduceMean(mul(gxhat, xhat), [-1], true)));
    return [mul(inner, rstd), undefined, undefined];
  },
};

/** The values of a constant int64 operand (axes, starts, pads). */
function constInts(v: Value): number[] {
  const init = v.graph.initializers.get(v.id);
  if (!init) throw new Error('grad: expected a constant index operand');
  return Array.from(init.data, Number);
}

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  const r = shape.length;
  const norm = axes.map((a) => (a < 0 ? a + r : a));
  return shape.map((d, i) => (norm.includes(i) ? 1 : d));
}
