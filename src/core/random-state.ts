/**
 * NumPy's legacy `RandomState`: MT19937 seeded with init_genrand, doubles from two 32-bit draws
 * (53 bits), and `randn` by the polar Box–Muller method with one cached value. Reproducing it bit for bit
 * makes seeds portable between ganvec and the Python StyleGAN scripts.
 */
const N = 624;
const M = 397;

export class RandomState {
  private readonly mt = new Uint32Array(N);
  private index = N;
  private cachedGauss: number | undefined;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`seed must be an integer in [0, 2^32 − 1], got ${seed}`);
    }
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1]! ^ (this.mt[i - 1]! >>> 30);
      // 1812433253 · prev + i, in 32-bit arithmetic.
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  private next32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const mt = this.mt;
    const mix = (i: number, next: number, far: number) => {
      const y = (mt[i]! & 0x80000000) | (mt[next]! & 0x7fffffff);
      mt[i] = mt[far]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    };
    // Three loops instead of modular indices: this runs once per 624 draws, in the hot path of noise.
    let i = 0;
    for (; i < N - M; i++) mix(i, i + 1, i + M);
    for (; i < N - 1; i++) mix(i, i + 1, i + M - N);
    mix(N - 1, 0, M - 1);
    this.index = 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.next32() >>> 5;
    const b = this.next32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  gauss(): number {
    if (this.cachedGauss !== undefined) {
      const g = this.cachedGauss;
      this.cachedGauss = undefined;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.random() - 1;
      x2 = 2 * this.random() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.cachedGauss = f * x1;
    return f * x2;
  }

  randn(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.gauss();
    return out;
  }
}
