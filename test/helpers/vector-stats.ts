/** What the "adaptation learns" tests measure of trained vectors. */

/** Spread of the magnitudes |d|: their standard deviation over their mean (0 when all are equal). */
export function coefficientOfVariation(v: Float32Array): number {
  const m = Array.from(v, Math.abs);
  const mean = m.reduce((s, x) => s + x, 0) / m.length;
  return Math.sqrt(m.reduce((s, x) => s + (x - mean) ** 2, 0) / m.length) / mean;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  return a.reduce((s, x, i) => s + x * b[i]!, 0) / (Math.hypot(...a) * Math.hypot(...b));
}
