/**
 * Seeded random test data: mulberry32 for uniforms, Box-Muller for normals. Deterministic across runs and
 * platforms (only 32-bit integer arithmetic and Math.log/cos/sqrt on its output).
 */
import { numel } from '../../src/core/tensor.js';

/** mulberry32: a tiny 32-bit PRNG; returns uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly next: () => number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** A standard normal sample (Box-Muller, both values used). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** N(0, scale²) samples filling `shape`. */
  randn(shape: readonly number[], scale = 1): Float32Array {
    return Float32Array.from({ length: numel(shape) }, () => scale * this.normal());
  }

  /** Uniform samples in [lo, hi) filling `shape`. */
  rand(shape: readonly number[], lo = 0, hi = 1): Float32Array {
    return Float32Array.from({ length: numel(shape) }, () => this.uniform(lo, hi));
  }

  /** Samples with |x| in [lo, hi) and a random sign: keeps data away from zero (kinks, poles). */
  awayFromZero(shape: readonly number[], lo: number, hi: number): Float32Array {
    return Float32Array.from({ length: numel(shape) }, () => (this.next() < 0.5 ? -1 : 1) * this.uniform(lo, hi));
  }

  /** Integers in [lo, hi). */
  ints(n: number, lo: number, hi: number): number[] {
    return Array.from({ length: n }, () => lo + Math.floor(this.next() * (hi - lo)));
  }
}
