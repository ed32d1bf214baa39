/**
 * upfirdn along one spatial axis as a block-banded matrix product. ONNX Runtime runs depthwise 1-D convs
 * at a fraction of a GFLOP/s (a GEMM per channel), while StyleGAN3 filters ~10⁹ samples per image at
 * 1024 px; a matrix product over blocks of the axis runs at GEMM speed and needs neither the zeros of
 * upsampling nor the dropped samples of downsampling to be materialised.
 *
 * With the filter taps g (flipped for convolution, gain folded in), upsampling u, padding p₀ before and
 * downsampling d, output sample o of one row is
 *   y[o] = Σᵢ x[i] · g[u·i + p₀ − d·o]          (0 ≤ u·i + p₀ − d·o < k)
 * Shifting o by a block of Bo outputs shifts i by Bi = d·Bo/u inputs, so each output block reads a
 * window of Wr ≥ Bi inputs (its own block and the start of the next) through one [Wr, Bo] matrix M.
 * Negative padding (crops) is a negative p₀ and a shorter output; nothing needs slicing first.
 */
import type { Graph, Value } from '../../engine/graph.js';
import { concat, matmul, pad, reshape, slice } from '../../engine/ops.js';

export interface AxisFir {
  /** The filter as convolved (it is flipped here), gain included. */
  taps: Float32Array;
  up: number;
  down: number;
  /** Padding before and after, in the upsampled signal; negative crops. */
  before: number;
  after: number;
}

/** Output block size: a compromise between the band's wasted multiplies (≈ Bi per output) and GEMM efficiency. */
const BLOCK_OUT = 64;

interface Banded {
  /** Inputs per block. */
  bi: number;
  bo: number;
  /** First input of block 0's window, relative to the block start. */
  r0: number;
  /** Window inputs beyond the block (read from the next one). */
  extra: number;
  /** M [bi + extra, bo], and transposed [bo, bi + extra]. */
  matrix: Float32Array;
  matrixT: Float32Array;
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) t[q * rows + r] = m[r * cols + q]!;
  return t;
}

const bandCache = new Map<string, Banded>();

function banded(f: AxisFir): Banded {
  const key = `${f.up}/${f.down}/${f.before}:${Array.from(f.taps).join(',')}`;
  const cached = bandCache.get(key);
  if (cached) return cached;
  const { up: u, down: d, before: p0, taps } = f;
  const k = taps.length;
  const g = Float32Array.from(taps).reverse();
  // bo a multiple of u so that bi = d·bo/u is whole; the window must fit in two blocks.
  let bo = Math.ceil(BLOCK_OUT / u) * u;
  let bi = (d * bo) / u;
  while (Math.ceil((k - 1) / u) + 1 > bi) (bo *= 2), (bi *= 2);
  const r0 = Math.ceil(-p0 / u);
  const rEnd = Math.floor((d * (bo - 1) - p0 + k - 1) / u); // last input of block 0's window
  const wr = rEnd - r0 + 1;
  const extra = Math.max(wr - bi, 0);
  const rows = bi + extra;
  const matrix = new Float32Array(rows * bo);
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < bo; q++) {
      const t = u * (r + r0) + p0 - d * q;
      if (t >= 0 && t < k) matrix[r * bo + q] = g[t]!;
    }
  }
  if (extra > bi) throw new Error(`upfirdn: a window of ${wr} inputs does not fit two blocks of ${bi}`);
  const b = { bi, bo, r0, extra, matrix, matrixT: transpose(matrix, rows, bo) };
  bandCache.set(key, b);
  return b;
}

/** Output length of upfirdn on `length` samples. */
export function upfirdnLength(length: number, f: AxisFir): number {
  return Math.floor((length * f.up + f.before + f.after - f.taps.length) / f.down) + 1;
}

/** Pads (positive) or crops (negative) one axis at both ends. */
function resize(x: Value, axis: number, before: number, after: number): Value {
  const r = x.shape.length;
  let y = x;
  if (before < 0 || after < 0) y = slice(y, axis, Math.max(-before, 0), y.shape[axis]! - Math.max(-after, 0));
  if (before > 0 || after > 0) {
    const pads = new Array<number>(2 * r).fill(0);
    pads[axis] = Math.max(before, 0);
    pads[axis + r] = Math.max(after, 0);
    y = pad(y, pads);
  }
  return y;
}

/** upfirdn of x [N, C, H, W] along axis 2 (H) or 3 (W). */
export function upfirdnAxis(g: Graph, x: Value, axis: 2 | 3, f: AxisFir): Value {
  const length = x.shape[axis]!;
  const out = upfirdnLength(length, f);
  if (out <= 0) throw new Error(`upfirdn: ${length} samples leave no output`);
  const { bi, bo, r0, extra, matrix, matrixT } = banded(f);
  const blocks = Math.ceil(out / bo);
  const span = (blocks + (extra > 0 ? 1 : 0)) * bi; // inputs the blocks read, from r0 on
  const shifted = resize(x, axis, -r0, span - (length - r0));
  const [n, c, h, w] = shifted.shape as [number, number, number, number];
  const total = blocks + (extra > 0 ? 1 : 0);
  // One matrix product per axis: each block's window is its own Bi inputs and the next block's first
  // `extra`, side by side, so the (large) output is written once.
  let y: Value;
  if (axis === 3) {
    const xb = reshape(shifted, [n, c, h, total, bi]); // [N, C, H, blocks(+1), Bi]
    const window = extra > 0 ? concat([slice(xb, 3, 0, blocks), slice(slice(xb, 3, 1, blocks + 1), 4, 0, extra)], 4) : xb;
    y = reshape(matmul(window, g.constant(matrix, [bi + extra, bo])), [n, c, h, blocks * bo]); // [N, C, H, blocks·Bo]
  } else {
    const xb = reshape(shifted, [n, c, total, bi, w]); // [N, C, blocks(+1), Bi, W]
    const window = extra > 0 ? concat([slice(xb, 2, 0, blocks), slice(slice(xb, 2, 1, blocks + 1), 3, 0, extra)], 3) : xb;
    y = reshape(matmul(g.constant(matrixT, [bo, bi + extra]), window), [n, c, blocks * bo, w]); // [N, C, blocks·Bo, W]
  }
  return slice(y, axis, 0, out);
}
