/**
 * The cubic interpolation gen_video.py walks latents with: scipy's `interp1d(x, y, kind='cubic')`, the
 * interpolating cubic spline with not-a-knot ends, here on unit-spaced knots. The spline is linear in the
 * values, so it is kept as weights: S(t) = Σⱼ wⱼ(t)·yⱼ, and any number of latent dimensions share them.
 */

/** Solves A·X = B in place for a dense n×n A and n×m B (Gaussian elimination with partial pivoting). */
function solve(a: Float64Array[], b: Float64Array[]): Float64Array[] {
  const n = a.length;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [b[col], b[pivot]] = [b[pivot]!, b[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = a[r]![col]! / a[col]![col]!;
      if (f === 0) continue;
      for (let c = col; c < n; c++) a[r]![c]! -= f * a[col]![c]!;
      for (let c = 0; c < b[r]!.length; c++) b[r]![c]! -= f * b[col]![c]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    for (let c = r + 1; c < n; c++) {
      const f = a[r]![c]!;
      for (let k = 0; k < b[r]!.length; k++) b[r]![k]! -= f * b[c]![k]!;
    }
    for (let k = 0; k < b[r]!.length; k++) b[r]![k]! /= a[r]![r]!;
  }
  return b;
}

/** The not-a-knot cubic spline through n ≥ 4 values at knots 0, 1, …, n − 1, as weights on the values. */
export class CubicSpline {
  /** Row i: the second derivative at knot i as weights on the n values. */
  private readonly curvature: Float64Array[];

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 4) throw new RangeError(`a cubic spline needs at least 4 knots, got ${n}`);
    // Unknowns M (second derivatives). Interior: M[i−1] + 4M[i] + M[i+1] = 6(y[i−1] − 2y[i] + y[i+1]);
    // not-a-knot: the third derivative is continuous at knots 1 and n − 2.
    const a = Array.from({ length: n }, () => new Float64Array(n));
    const b = Array.from({ length: n }, () => new Float64Array(n));
    a[0]!.set([1, -2, 1]);
    a[n - 1]!.set([1, -2, 1], n - 3);
    for (let i = 1; i < n - 1; i++) {
      a[i]!.set([1, 4, 1], i - 1);
      b[i]!.set([6, -12, 6], i - 1);
    }
    this.curvature = solve(a, b);
  }

  /** Weights of the n values at position t ∈ [0, n − 1]. */
  weights(t: number): Float64Array {
    if (!(t >= 0 && t <= this.n - 1)) throw new RangeError(`t ${t} is outside the knots [0, ${this.n - 1}]`);
    const i = Math.min(Math.floor(t), this.n - 2);
    const u = t - i;
    const v = 1 - u;
    const w = new Float64Array(this.n);
    w[i] = v;
    w[i + 1]! += u;
    const ci = (v ** 3 - v) / 6;
    const cj = (u ** 3 - u) / 6;
    for (let k = 0; k < this.n; k++) w[k]! += ci * this.curvature[i]![k]! + cj * this.curvature[i + 1]![k]!;
    return w;
  }
}

/**
 * gen_video.py's looped walk over K keyframes: the keyframes tiled 2·wraps + 1 times on knots
 * −K·wraps … K·(wraps + 1) − 1, so the spline runs through frame 0 as it runs through every keyframe.
 * Returns, for position t ∈ [0, K) (frame / w_frames), the weight of each keyframe.
 */
export function loopedKeyframeWeights(keyframes: number, wraps = 2): (t: number) => Float64Array {
  const spline = new CubicSpline(keyframes * (2 * wraps + 1));
  return (t) => {
    const w = spline.weights(t + keyframes * wraps);
    const out = new Float64Array(keyframes);
    w.forEach((x, p) => (out[p % keyframes]! += x));
    return out;
  };
}
