/**
 * The op set: a small number of ONNX operators, each a builder that checks its inputs, infers the output
 * shape and appends one node. Numbers passed where a Value is expected become float32 scalar constants.
 * Every op here has a forward test against a TypeScript reference (test/engine-ops.test.ts) and, where it
 * can sit on a differentiable path, a VJP rule in vjp.ts.
 */
import type { DType, Value } from './graph.js';
import { numel, shapeString } from '../core/tensor.js';

export type Operand = Value | number;

function graphOf(...xs: Operand[]) {
  for (const x of xs) if (typeof x !== 'number') return x.graph;
  throw new Error('an op needs at least one Value operand');
}

function lift(x: Operand, like: Value): Value {
  return typeof x === 'number' ? like.graph.scalar(x) : x;
}

function single(op: string, inputs: Value[], attrs: Record<string, import('./graph.js').AttrValue>, shape: readonly number[], dtype: DType = 'float32'): Value {
  return inputs[0]!.graph.addNode(op, inputs, attrs, [{ shape, dtype }])[0]!;
}

function axisOf(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`${op}: shapes ${shapeString(a)} and ${shapeString(b)} do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

function binary(op: string, a: Operand, b: Operand): Value {
  const g = graphOf(a, b);
  const x = typeof a === 'number' ? g.scalar(a) : a;
  const y = lift(b, x);
  return single(op, [x, y], {}, broadcastShapes(x.shape, y.shape, op));
}

export const add = (a: Operand, b: Operand) => binary('Add', a, b);
export const sub = (a: Operand, b: Operand) => binary('Sub', a, b);
export const mul = (a: Operand, b: Operand) => binary('Mul', a, b);
export const div = (a: Operand, b: Operand) => binary('Div', a, b);

function unary(op: string, x: Value, attrs: Record<string, import('./graph.js').AttrValue> = {}): Value {
  return single(op, [x], attrs, x.shape, x.dtype);
}

export const neg = (x: Value) => unary('Neg', x);
export const sqrt = (x: Value) => unary('Sqrt', x);
export const reciprocal = (x: Value) => unary('Reciprocal', x);
export const exp = (x: Value) => unary('Exp', x);
export const sigmoid = (x: Value) => unary('Sigmoid', x);
export const identity = (x: Value) => unary('Identity', x);
export const leakyRelu = (x: Value, alpha: number) => unary('LeakyRelu', x, { alpha: { float: alpha } });
export const sin = (x: Value) => unary('Sin', x);

export function square(x: Value): Value {
  return mul(x, x);
}

/** 1 / sqrt(x). */
export function rsqrt(x: Value): Value {
  return reciprocal(sqrt(x));
}

/** min and max are scalars (rank 0). */
export function clip(x: Value, min: Operand, max: Operand): Value {
  const [lo, hi] = [lift(min, x), lift(max, x)];
  if (lo.shape.length !== 0 || hi.shape.length !== 0) throw new Error('Clip: min and max must be scalars');
  return single('Clip', [x, lo, hi], {}, x.shape);
}

export function greater(a: Value, b: Operand): Value {
  const y = lift(b, a);
  return single('Greater', [a, y], {}, broadcastShapes(a.shape, y.shape, 'Greater'), 'bool');
}

export function equal(a: Value, b: Operand): Value {
  const y = lift(b, a);
  return single('Equal', [a, y], {}, broadcastShapes(a.shape, y.shape, 'Equal'), 'bool');
}

export function where(cond: Value, a: Operand, b: Operand): Value {
  const x = lift(a, cond);
  const y = lift(b, cond);
  const shape = broadcastShapes(cond.shape, broadcastShapes(x.shape, y.shape, 'Where'), 'Where');
  return single('Where', [cond, x, y], {}, shape, x.dtype);
}

export function cast(x: Value, to: DType): Value {
  const code = { float32: 1, int64: 7, bool: 9 }[to];
  return single('Cast', [x], { to: code }, x.shape, to);
}

/** Batched matrix product [..., m, k] @ [..., k, n] with broadcast batch dimensions. */
export function matmul(a: Value, b: Value): Value {
  if (a.shape.length < 2 || b.shape.length < 2) throw new Error('MatMul: operands must be at least 2-D');
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new Error(`MatMul: ${shapeString(a.shape)} @ ${shapeString(b.shape)}: inner dims differ`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
  return single('MatMul', [a, b], {}, [...batch, m, n]);
}

export interface ConvOptions {
  /** [top, left, bottom, right], as ONNX orders them. */
  pads?: [number, number, number, number];
  group?: number;
  /** [along H, along W]; default 1, 1. */
  strides?: [number, number];
}

/** 2-D convolution: x [N, C, H, W] * w [O, C/group, kh, kw] → [N, O, H', W'], H' = ⌊(H + pads − kh) / stride⌋ + 1. */
export function conv(x: Value, w: Value, opts: ConvOptions = {}): Value {
  const pads = opts.pads ?? [0, 0, 0, 0];
  const group = opts.group ?? 1;
  const [sh, sw] = opts.strides ?? [1, 1];
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, ci, kh, kw] = w.shape as [number, number, number, number];
  if (x.shape.length !== 4 || w.shape.length !== 4) throw new Error('Conv: x and w must be 4-D');
  if (c !== ci * group || o % group !== 0) {
    throw new Error(`Conv: input ${shapeString(x.shape)} does not fit weight ${shapeString(w.shape)} with group ${group}`);
  }
  if (!(Number.isInteger(sh) && Number.isInteger(sw) && sh >= 1 && sw >= 1)) throw new Error(`Conv: bad strides [${sh}, ${sw}]`);
  const spanH = h + pads[0] + pads[2] - kh;
  const spanW = wd + pads[1] + pads[3] - kw;
  if (spanH < 0 || spanW < 0) throw new Error('Conv: kernel larger than padded input');
  const attrs = { pads: [...pads], group, kernel_shape: [kh, kw], ...(sh !== 1 || sw !== 1 ? { strides: [sh, sw] } : {}) };
  return single('Conv', [x, w], attrs, [n, o, Math.floor(spanH / sh) + 1, Math.floor(spanW / sw) + 1]);
}

/** Reshape to a fully known shape; one -1 is inferred. */
export function reshape(x: Value, shape: readonly number[]): Value {
  const total = numel(x.shape);
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = shape.map((d) => (d === -1 ? total / known : d));
  if (numel(out) !== total || out.some((d) => !Number.isInteger(d))) {
    throw new Error(`Reshape: cannot reshape ${shapeString(x.shape)} to ${shapeString(shape)}`);
  }
  if (out.length === x.shape.length && out.every((d, i) => d === x.shape[i])) return x;
  return single('Reshape', [x, x.graph.ints(out)], {}, out, x.dtype);
}

export function transpose(x: Value, perm: readonly number[]): Value {
  if (perm.length !== x.shape.length || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    throw new Error(`Transpose: bad permutation [${perm}] for rank ${x.shape.length}`);
  }
  return single('Transpose', [x], { perm: [...perm] }, perm.map((p) => x.shape[p]!), x.dtype);
}

function reducedShape(x: Value, axes: readonly number[], keepdims: boolean, op: string): { axes: number[]; shape: number[] } {
  const norm = axes.map((a) => axisOf(a, x.shape.length, op));
  const shape: number[] = [];
  x.shape.forEach((d, i) => {
    if (!norm.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  return { axes: norm, shape };
}

export function reduceSum(x: Value, axes: readonly number[], keepdims = false): Value {
  const r = reducedShape(x, axes, keepdims, 'ReduceSum');
  if (r.axes.length === 0) return x; // ONNX reads empty axes as "reduce everything"
  return single('ReduceSum', [x, x.graph.ints(r.axes)], { keepdims: keepdims ? 1 : 0 }, r.shape);
}

export function reduceMean(x: Value, axes: readonly number[], keepdims = false): Value {
  const r = reducedShape(x, axes, keepdims, 'ReduceMean');
  if (r.axes.length === 0) return x;
  return single('ReduceMean', [x], { axes: r.axes, keepdims: keepdims ? 1 : 0 }, r.shape);
}

/** Sum of every element, as a scalar. */
export function sumAll(x: Value): Value {
  return reduceSum(x, x.shape.map((_, i) => i));
}

export function expand(x: Value, shape: readonly number[]): Value {
  const out = broadcastShapes(x.shape, shape, 'Expand');
  if (out.length === x.shape.length && out.every((d, i) => d === x.shape[i])) return x;
  return single('Expand', [x, x.graph.ints(out)], {}, out, x.dtype);
}

export function concat(xs: readonly Value[], axis: number): Value {
  const first = xs[0]!;
  const a = axisOf(axis, first.shape.length, 'Concat');
  const shape = [...first.shape];
  shape[a] = 0;
  for (const x of xs) {
    if (x.shape.length !== shape.length || x.shape.some((d, i) => i !== a && d !== shape[i])) {
      throw new Error(`Concat: ${shapeString(x.shape)} does not fit ${shapeString(first.shape)} on axis ${a}`);
    }
    shape[a]! += x.shape[a]!;
  }
  if (xs.length === 1) return first;
  return single('Concat', [...xs], { axis: a }, shape, first.dtype);
}

/** x[..., start:end, ...] along one axis. */
export function slice(x: Value, axis: number, start: number, end: number): Value {
  const a = axisOf(axis, x.shape.length, 'Slice');
  if (start < 0 || end > x.shape[a]! || start >= end) {
    throw new Error(`Slice: [${start}, ${end}) out of range for axis ${a} of ${shapeString(x.shape)}`);
  }
  if (start === 0 && end === x.shape[a]) return x;
  const g = x.graph;
  const shape = [...x.shape];
  shape[a] = end - start;
  return single('Slice', [x, g.ints([start]), g.ints([end]), g.ints([a])], {}, shape, x.dtype);
}

/** Zero padding; `pads` = [begin_0, …, begin_{r-1}, end_0, …, end_{r-1}] (ONNX order). */
export function pad(x: Value, pads: readonly number[]): Value {
  const r = x.shape.length;
  if (pads.length !== 2 * r || pads.some((p) => p < 0)) throw new Error(`Pad: need ${2 * r} non-negative pads`);
  if (pads.every((p) => p === 0)) return x;
  const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
  return single('Pad', [x, x.graph.ints(pads)], { mode: 'constant' }, shape, x.dtype);
}

/**
 * A zero scalar computed from v, for ops that must not run before v exists. ONNX Runtime orders nodes by a
 * depth-first walk that visits a node's newest input first, so a backward-pass op built only from forward
 * values (a ReLU's mask, a recomputed layer) would run during the forward pass and its result stay alive
 * until the backward pass used it. Reading this zero of the cotangent makes it wait; it costs a one-element
 * slice.
 */
export function zeroAfter(v: Value): Value {
  return reshape(mul(slice(reshape(v, [numel(v.shape)]), 0, 0, 1), 0), []);
}

/**
 * [N, C, H, W] → [N, C, H·sh, W·sw] with x at (i·sh, j·sw) and zeros elsewhere. Along W the zeros are
 * concatenated, not padded: ONNX Runtime's Pad of an innermost axis of 1 writes element by element (2 s for
 * a 630 MB StyleGAN3 tensor, against 0.09 s). They are expanded from a zero read from x, as a constant would
 * be folded into a stored tensor of their size.
 */
export function zeroInsert(x: Value, sh: number, sw: number): Value {
  if (sh === 1 && sw === 1) return x;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  let y = x;
  if (sw > 1) y = reshape(concat([reshape(x, [n, c, h, w, 1]), expand(zeroAfter(x), [n, c, h, w, sw - 1])], 4), [n, c, h, w * sw]);
  if (sh > 1) y = reshape(pad(reshape(y, [n, c, h, 1, w * sw]), [0, 0, 0, 0, 0, 0, 0, 0, sh - 1, 0]), [n, c, h * sh, w * sw]);
  return y;
}

/**
 * [N, C·b², H, W] → [N, C, H·b, W·b], DCR order: input channel (i·b + j)·C + c lands at (h·b+i, w·b+j).
 * Built as two single-axis moves (row phase i behind H, then column phase j behind W), not ONNX's
 * DepthToSpace: ONNX Runtime runs that as a general 6-D transpose, 4.4x slower ([1, 128, 512, 512]: 366
 * against 83 ms). The Reshape between the moves keeps its transpose optimiser from merging them back
 * into one. Their adjoints would merge into one slow transpose, so the gradient is SpaceToDepth.
 */
export function depthToSpace(x: Value, b: number): Value {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (c % (b * b) !== 0) throw new Error(`DepthToSpace: ${c} channels not divisible by ${b * b}`);
  const k = c / (b * b);
  return x.graph.composite([x], () => {
    const rowsMoved = transpose(reshape(x, [n, b, b, k, h, w]), [0, 2, 3, 4, 1, 5]); // [N, j, C, H, i, W]
    const columnsMoved = transpose(reshape(rowsMoved, [n, b, k, h * b, w]), [0, 2, 3, 4, 1]); // [N, C, H·b, W, j]
    return reshape(columnsMoved, [n, k, h * b, w * b]);
  }, (gy) => [spaceToDepth(gy, b)]);
}

/**
 * Four planes [N, C, H, W], phases[py][px], → [N, C, 2H, 2W] with phases[py][px] at (2h + py, 2w + px):
 * the depthToSpace of their channel concat, built as two stacking concats (columns, then rows), so
 * no 4C tensor is written first.
 */
export function interleave2x2(phases: readonly [readonly [Value, Value], readonly [Value, Value]]): Value {
  const [n, c, h, w] = phases[0][0].shape as [number, number, number, number];
  const rows = phases.map((pair) => {
    const columns = concat(pair.map((p) => reshape(p, [n, c, h, w, 1])), 4); // [N, C, H, W, 2]
    return reshape(columns, [n, c, h, 1, 2 * w]);
  });
  return reshape(concat(rows, 3), [n, c, 2 * h, 2 * w]); // [N, C, H, 2, 2W] → [N, C, 2H, 2W]
}

/** The inverse of depthToSpace. */
export function spaceToDepth(x: Value, b: number): Value {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (h % b !== 0 || w % b !== 0) throw new Error(`SpaceToDepth: ${h}x${w} not divisible by ${b}`);
  return single('SpaceToDepth', [x], { blocksize: b }, [n, c * b * b, h / b, w / b]);
}

/** Rows of x along `axis` picked by int64 indices. */
export function gather(x: Value, indices: Value, axis: number): Value {
  const a = axisOf(axis, x.shape.length, 'Gather');
  if (indices.dtype !== 'int64') throw new Error('Gather: indices must be int64');
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  return single('Gather', [x, indices], { axis: a }, shape, x.dtype);
}

export function softmax(x: Value, axis = -1): Value {
  return single('Softmax', [x], { axis: axisOf(axis, x.shape.length, 'Softmax') }, x.shape);
}

/** LayerNorm over the last axis with affine scale and bias [C]. */
export function layerNorm(x: Value, scale: Value, bias: Value, eps: number): Value {
  const c = x.shape[x.shape.length - 1];
  if (scale.shape.length !== 1 || scale.shape[0] !== c || bias.shape[0] !== c) {
    throw new Error(`LayerNormalization: scale/bias must be [${c}]`);
  }
  return single('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: { float: eps } }, x.shape);
}

/** PReLU with a learned slope per channel (`slope` broadcast to x, e.g. [1, C, 1, 1]): x ≥ 0 ? x : slope·x. */
export function prelu(x: Value, slope: Value): Value {
  broadcastShapes(x.shape, slope.shape, 'PRelu');
  return where(greater(x, 0), x, mul(x, slope));
}

/**
 * Bilinear resize of [N, C, H, W] to [N, C, h, w] with corners aligned (PyTorch's interpolate(mode='bilinear',
 * align_corners=True)): output row i samples input row i·(H−1)/(h−1). Written as the separable product
 * A_h · x · A_wᵀ with constant interpolation matrices, so it is two MatMuls with gradients for free.
 */
export function resizeBilinearAlignCorners(x: Value, h: number, w: number): Value {
  if (x.shape.length !== 4) throw new Error('resizeBilinearAlignCorners: x must be [N, C, H, W]');
  const [, , inH, inW] = x.shape as [number, number, number, number];
  if (!(Number.isInteger(h) && Number.isInteger(w) && h >= 1 && w >= 1)) throw new Error(`resizeBilinearAlignCorners: bad size ${h}x${w}`);
  const g = x.graph;
  let y = x;
  if (w !== inW) y = matmul(y, g.constant(alignedCornersMatrix(inW, w, true), [inW, w])); // [N, C, H, w]
  if (h !== inH) y = matmul(g.constant(alignedCornersMatrix(inH, h, false), [h, inH]), y); // [N, C, h, w]
  return y;
}

/** The [out, in] (or, transposed, [in, out]) matrix of 1-D linear interpolation with aligned corners. */
function alignedCornersMatrix(inSize: number, outSize: number, transposed: boolean): Float32Array {
  const m = new Float32Array(inSize * outSize);
  const scale = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  const at = (o: number, i: number) => (transposed ? i * outSize + o : o * inSize + i);
  for (let o = 0; o < outSize; o++) {
    const src = o * scale;
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const frac = src - i0;
    m[at(o, i0)]! += 1 - frac;
    m[at(o, i1)]! += frac;
  }
  return m;
}
