/**
 * Plain-TypeScript reference implementations of the engine's ops, in float64 on row-major arrays.
 * Written for clarity, not speed: every op walks output indices and reads its inputs by index, so the
 * semantics (broadcasting, pads order, DCR channel order, …) are spelled out once, independently of ONNX.
 */

export interface Arr {
  data: Float64Array;
  shape: number[];
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

export function arr(data: ArrayLike<number> | ArrayLike<bigint>, shape: readonly number[]): Arr {
  const out = Float64Array.from(data as ArrayLike<number>, (x) => Number(x));
  if (out.length !== numelOf(shape)) throw new Error(`arr: ${out.length} values do not fill [${shape.join(', ')}]`);
  return { data: out, shape: [...shape] };
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let k = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = k;
    k *= shape[i]!;
  }
  return s;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i]!;
    flat = Math.floor(flat / shape[i]!);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i]! + idx[i]!;
  return flat;
}

function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`reference: axis ${axis} out of range for rank ${rank}`);
  return a;
}

// ---- broadcasting elementwise ------------------------------------------------------------------------

export function broadcastShape(...shapes: ReadonlyArray<readonly number[]>): number[] {
  const n = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let d = 1;
    for (const s of shapes) {
      const x = s[s.length - n + i] ?? 1;
      if (x !== 1) {
        if (d !== 1 && d !== x) throw new Error(`reference: shapes do not broadcast`);
        d = x;
      }
    }
    out.push(d);
  }
  return out;
}

/** Flat index into an array of `shape` for an output index of a broadcast result (right-aligned). */
function broadcastRead(outIdx: readonly number[], shape: readonly number[]): number {
  const lead = outIdx.length - shape.length;
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i]! + (shape[i] === 1 ? 0 : outIdx[lead + i]!);
  return flat;
}

/** f applied elementwise over NumPy-broadcast operands. */
export function mapN(xs: readonly Arr[], f: (...v: number[]) => number): Arr {
  const shape = broadcastShape(...xs.map((x) => x.shape));
  const n = numelOf(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    data[i] = f(...xs.map((x) => x.data[broadcastRead(idx, x.shape)]!));
  }
  return { data, shape };
}

export const map = (x: Arr, f: (v: number) => number): Arr => mapN([x], f);
export const add = (a: Arr, b: Arr) => mapN([a, b], (x, y) => x + y);
export const sub = (a: Arr, b: Arr) => mapN([a, b], (x, y) => x - y);
export const mul = (a: Arr, b: Arr) => mapN([a, b], (x, y) => x * y);
export const div = (a: Arr, b: Arr) => mapN([a, b], (x, y) => x / y);
export const greater = (a: Arr, b: Arr) => mapN([a, b], (x, y) => (x > y ? 1 : 0));
export const equal = (a: Arr, b: Arr) => mapN([a, b], (x, y) => (x === y ? 1 : 0));
/** cond is 0/1 valued. */
export const where = (c: Arr, a: Arr, b: Arr) => mapN([c, a, b], (k, x, y) => (k ? x : y));
export const sigmoid = (x: Arr) => map(x, (v) => 1 / (1 + Math.exp(-v)));
export const leakyRelu = (x: Arr, alpha: number) => map(x, (v) => (v > 0 ? v : alpha * v));
export const clip = (x: Arr, lo: number, hi: number) => map(x, (v) => Math.min(hi, Math.max(lo, v)));
export const scalar = (v: number): Arr => ({ data: Float64Array.of(v), shape: [] });

export function expand(x: Arr, shape: readonly number[]): Arr {
  return mapN([x, { data: new Float64Array(numelOf(shape)), shape: [...shape] }], (v) => v);
}

// ---- linear algebra -----------------------------------------------------------------------------------

/** [..., m, k] @ [..., k, n] with broadcast batch dimensions. */
export function matmul(a: Arr, b: Arr): Arr {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new Error('reference matmul: inner dims differ');
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShape(aBatch, bBatch);
  const nb = numelOf(batch);
  const out = new Float64Array(nb * m * n);
  for (let bi = 0; bi < nb; bi++) {
    const idx = unravel(bi, batch);
    const ao = broadcastRead(idx, aBatch) * m * k;
    const bo = broadcastRead(idx, bBatch) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += a.data[ao + i * k + t]! * b.data[bo + t * n + j]!;
        out[(bi * m + i) * n + j] = s;
      }
    }
  }
  return { data: out, shape: [...batch, m, n] };
}

/**
 * 2-D cross-correlation, stride 1, zero padding [top, left, bottom, right]:
 * y[n, o, p, q] = Σ_{c, u, v} x[n, g·C/G + c, p + u − top, q + v − left] · w[o, c, u, v], g = o / (O/G).
 */
export function conv2d(x: Arr, w: Arr, pads: readonly number[] = [0, 0, 0, 0], group = 1, strides: readonly number[] = [1, 1]): Arr {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, CG, KH, KW] = w.shape as [number, number, number, number];
  if (CG * group !== C || O % group !== 0) throw new Error('reference conv2d: channels do not fit');
  const [pt, pl, pb, pr] = pads as [number, number, number, number];
  const [SH, SW] = strides as [number, number];
  const OH = Math.floor((H + pt + pb - KH) / SH) + 1;
  const OW = Math.floor((W + pl + pr - KW) / SW) + 1;
  const OG = O / group;
  const out = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const gi = Math.floor(o / OG);
      for (let p = 0; p < OH; p++) {
        for (let q = 0; q < OW; q++) {
          let s = 0;
          for (let c = 0; c < CG; c++) {
            const ci = gi * CG + c;
            for (let u = 0; u < KH; u++) {
              const i = p * SH + u - pt;
              if (i < 0 || i >= H) continue;
              for (let v = 0; v < KW; v++) {
                const j = q * SW + v - pl;
                if (j < 0 || j >= W) continue;
                s += x.data[((n * C + ci) * H + i) * W + j]! * w.data[((o * CG + c) * KH + u) * KW + v]!;
              }
            }
          }
          out[((n * O + o) * OH + p) * OW + q] = s;
        }
      }
    }
  }
  return { data: out, shape: [N, O, OH, OW] };
}

/** PyTorch's upsample_bilinear2d with align_corners=True, point by point: the four neighbours of each sample. */
export function resizeBilinearAlignCorners(x: Arr, h: number, w: number): Arr {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const out = new Float64Array(N * C * h * w);
  const sy = h > 1 ? (H - 1) / (h - 1) : 0;
  const sx = w > 1 ? (W - 1) / (w - 1) : 0;
  for (let nc = 0; nc < N * C; nc++) {
    for (let p = 0; p < h; p++) {
      const y0 = Math.floor(p * sy);
      const y1 = Math.min(y0 + 1, H - 1);
      const ly = p * sy - y0;
      for (let q = 0; q < w; q++) {
        const x0 = Math.floor(q * sx);
        const x1 = Math.min(x0 + 1, W - 1);
        const lx = q * sx - x0;
        const at = (i: number, j: number) => x.data[(nc * H + i) * W + j]!;
        out[(nc * h + p) * w + q] =
          (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
      }
    }
  }
  return { data: out, shape: [N, C, h, w] };
}

// ---- layout -------------------------------------------------------------------------------------------

export function transpose(x: Arr, perm: readonly number[]): Arr {
  const shape = perm.map((p) => x.shape[p]!);
  const n = numelOf(shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    const src = new Array<number>(perm.length);
    perm.forEach((p, k) => (src[p] = idx[k]!));
    out[i] = x.data[ravel(src, x.shape)]!;
  }
  return { data: out, shape };
}

/** [N, C·b², H, W] → [N, C, H·b, W·b]; DCR: out[n, c, h·b+i, w·b+j] = in[n, (i·b+j)·C + c, h, w]. */
export function depthToSpace(x: Arr, b: number): Arr {
  const [N, CB, H, W] = x.shape as [number, number, number, number];
  const C = CB / (b * b);
  const shape = [N, C, H * b, W * b];
  const out = new Float64Array(numelOf(shape));
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < b; i++)
          for (let w = 0; w < W; w++)
            for (let j = 0; j < b; j++) {
              out[ravel([n, c, h * b + i, w * b + j], shape)] = x.data[ravel([n, (i * b + j) * C + c, h, w], x.shape)]!;
            }
  return { data: out, shape };
}

/** The inverse of depthToSpace: out[n, (i·b+j)·C + c, h, w] = in[n, c, h·b+i, w·b+j]. */
export function spaceToDepth(x: Arr, b: number): Arr {
  const [N, C, HB, WB] = x.shape as [number, number, number, number];
  const H = HB / b;
  const W = WB / b;
  const shape = [N, C * b * b, H, W];
  const out = new Float64Array(numelOf(shape));
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < b; i++)
          for (let w = 0; w < W; w++)
            for (let j = 0; j < b; j++) {
              out[ravel([n, (i * b + j) * C + c, h, w], shape)] = x.data[ravel([n, c, h * b + i, w * b + j], x.shape)]!;
            }
  return { data: out, shape };
}

/** Zero padding, pads = [begin_0 … begin_{r−1}, end_0 … end_{r−1}]. */
export function pad(x: Arr, pads: readonly number[]): Arr {
  const r = x.shape.length;
  const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
  const out = new Float64Array(numelOf(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape).map((v, k) => v - pads[k]!);
    if (idx.every((v, k) => v >= 0 && v < x.shape[k]!)) out[i] = x.data[ravel(idx, x.shape)]!;
  }
  return { data: out, shape };
}

/** x[..., start:end, ...] along `axis`. */
export function slice(x: Arr, axis: number, start: number, end: number): Arr {
  const a = normAxis(axis, x.shape.length);
  const shape = [...x.shape];
  shape[a] = end - start;
  const out = new Float64Array(numelOf(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    idx[a]! += start;
    out[i] = x.data[ravel(idx, x.shape)]!;
  }
  return { data: out, shape };
}

export function concat(xs: readonly Arr[], axis: number): Arr {
  const a = normAxis(axis, xs[0]!.shape.length);
  const shape = [...xs[0]!.shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
  const out = new Float64Array(numelOf(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let k = 0;
    while (idx[a]! >= xs[k]!.shape[a]!) idx[a]! -= xs[k++]!.shape[a]!;
    out[i] = xs[k]!.data[ravel(idx, xs[k]!.shape)]!;
  }
  return { data: out, shape };
}

/** x.take(indices, axis); negative indices count from the end, as in ONNX Gather. */
export function gather(x: Arr, indices: readonly number[], indexShape: readonly number[], axis: number): Arr {
  const a = normAxis(axis, x.shape.length);
  const shape = [...x.shape.slice(0, a), ...indexShape, ...x.shape.slice(a + 1)];
  const out = new Float64Array(numelOf(shape));
  const q = indexShape.length;
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let t = indices[ravel(idx.slice(a, a + q), indexShape)]!;
    if (t < 0) t += x.shape[a]!;
    const src = [...idx.slice(0, a), t, ...idx.slice(a + q)];
    out[i] = x.data[ravel(src, x.shape)]!;
  }
  return { data: out, shape };
}

// ---- reductions and normalisations --------------------------------------------------------------------

export function reduce(x: Arr, axes: readonly number[], keepdims: boolean, kind: 'sum' | 'mean'): Arr {
  const norm = axes.map((a) => normAxis(a, x.shape.length));
  const kept = x.shape.map((d, i) => (norm.includes(i) ? 1 : d));
  const out = new Float64Array(numelOf(kept));
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, k) => (norm.includes(k) ? 0 : v));
    out[ravel(idx, kept)]! += x.data[i]!;
  }
  if (kind === 'mean') {
    const count = x.data.length / Math.max(1, out.length);
    for (let i = 0; i < out.length; i++) out[i]! /= count;
  }
  return { data: out, shape: keepdims ? kept : x.shape.filter((_, i) => !norm.includes(i)) };
}

export function softmax(x: Arr, axis: number): Arr {
  const a = normAxis(axis, x.shape.length);
  const kept = x.shape.map((d, i) => (i === a ? 1 : d));
  const max: Arr = { data: new Float64Array(numelOf(kept)).fill(-Infinity), shape: kept };
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    idx[a] = 0;
    const k = ravel(idx, max.shape);
    max.data[k] = Math.max(max.data[k]!, x.data[i]!);
  }
  const e = mapN([x, max], (v, m) => Math.exp(v - m));
  const s = reduce(e, [a], true, 'sum');
  return div(e, s);
}

/** LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · scale + bias, biased variance. */
export function layerNorm(x: Arr, scale: Arr, bias: Arr, eps: number): Arr {
  const r = x.shape.length;
  const mean = reduce(x, [r - 1], true, 'mean');
  const centred = sub(x, mean);
  const variance = reduce(map(centred, (v) => v * v), [r - 1], true, 'mean');
  const xhat = mapN([centred, variance], (c, v) => c / Math.sqrt(v + eps));
  return add(mul(xhat, scale), bias);
}

// ---- comparison ---------------------------------------------------------------------------------------

/**
 * The largest elementwise error relative to max(|expected_i|, mean |expected|): a relative error that does
 * not blow up on entries that are near zero by cancellation (conv and matmul sums).
 */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let meanAbs = 0;
  for (let i = 0; i < expected.length; i++) meanAbs += Math.abs(expected[i]!);
  meanAbs = expected.length ? meanAbs / expected.length : 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(a) !== Number.isNaN(e)) return Infinity;
    const d = Math.abs(a - e);
    if (d === 0) continue;
    worst = Math.max(worst, d / Math.max(Math.abs(e), meanAbs, 1e-30));
  }
  return worst;
}
