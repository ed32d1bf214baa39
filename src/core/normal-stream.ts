/**
 * A fast seeded stream of standard normals for the noise maps a training step draws (millions a step at
 * 1024 px, where NumPy's MT19937 + polar method took about 1 s of host time): xoshiro128** for the
 * uniform bits and Marsaglia & Tsang's 128-layer ziggurat (J. Stat. Softw. 5(8), 2000) for the normals,
 * which needs one 32-bit draw and a table lookup for ~99% of values. Nothing here needs NumPy parity;
 * latents from seeds keep using RandomState.
 */
const LAYERS = 128;
const R = 3.442619855899; // start of the tail
const AREA = 9.91256303526217e-3; // of each layer
// Each 32-bit draw gives the layer (its low 7 bits) and, separately, a signed 25-bit value (the rest), so
// the layer and the value never share bits (the flaw Doornik found in the original, which used both from one word).
const M1 = 16777216;

/** Ziggurat tables: kn (integer acceptance bounds), wn (value per unit of the draw), fn (density at each edge). */
const kn = new Uint32Array(LAYERS);
const wn = new Float64Array(LAYERS);
const fn = new Float64Array(LAYERS);
{
  let dn = R;
  let tn = dn;
  const q = AREA / Math.exp(-0.5 * dn * dn);
  kn[0] = (dn / q) * M1;
  kn[1] = 0;
  wn[0] = q / M1;
  wn[LAYERS - 1] = dn / M1;
  fn[0] = 1;
  fn[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(AREA / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = (dn / tn) * M1;
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / M1;
  }
}

export class NormalStream {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`seed must be an integer in [0, 2^32 − 1], got ${seed}`);
    // splitmix32 spreads one 32-bit seed over the 128-bit state (never all zero).
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  /** xoshiro128**: the next 32 bits, as a signed integer. */
  private bits(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result | 0;
  }

  /** Uniform in (0, 1). */
  private uniform(): number {
    return ((this.bits() >>> 8) + 0.5) / 16777216;
  }

  /** The slow path: the draw fell outside its layer's rectangle (or in the base layer's tail). */
  private edge(hz: number, iz: number): number {
    for (;;) {
      const x = hz * wn[iz]!;
      if (iz === 0) {
        let tail: number;
        let y: number;
        do {
          tail = -Math.log(this.uniform()) / R;
          y = -Math.log(this.uniform());
        } while (y + y < tail * tail);
        return hz > 0 ? R + tail : -R - tail;
      }
      if (fn[iz]! + this.uniform() * (fn[iz - 1]! - fn[iz]!) < Math.exp(-0.5 * x * x)) return x;
      const j = this.bits();
      iz = j & (LAYERS - 1);
      hz = j >> 7;
      if (Math.abs(hz) < kn[iz]!) return hz * wn[iz]!;
    }
  }

  /** Fills `out` with standard normals and returns it. */
  fill(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) {
      const j = this.bits();
      const iz = j & (LAYERS - 1);
      const hz = j >> 7;
      out[i] = Math.abs(hz) < kn[iz]! ? hz * wn[iz]! : this.edge(hz, iz);
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
