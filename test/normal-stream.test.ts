/**
 * The training noise stream draws standard normals: checked against the normal distribution itself
 * (Kolmogorov–Smirnov over the whole line, the tail past the ziggurat's base layer, moments), and for
 * the independence a noise map needs (lag-1 and cross-seed correlation). Thresholds are 4-5 standard
 * errors, so a correct stream fails them with probability below 1e-4 while a wrong table, tail or
 * scale fails them by far.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { NormalStream } from '../src/core/normal-stream.js';

const N = 1_000_000;
const sample = new NormalStream(12345).fill(new Float32Array(N));

/** Φ(x) from erfc (W. J. Cody's rational approximations are overkill here: Numerical Recipes' erfc, |ε| < 1.2e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

it('is standard normal: Kolmogorov–Smirnov distance within 1.95/√n (p ≈ 0.001)', () => {
  const sorted = Float64Array.from(sample).sort();
  let d = 0;
  sorted.forEach((x, i) => {
    const f = normalCdf(x);
    d = Math.max(d, Math.abs(f - i / N), Math.abs((i + 1) / N - f));
  });
  assert.ok(d < 1.95 / Math.sqrt(N), `KS distance ${d}`);
});

it('has the normal tails, including past the base layer at 3.44', () => {
  for (const [t, p] of [[2, 0.0455003], [3, 0.0026998], [3.5, 0.000465258], [4, 0.0000633425]] as const) {
    const count = sample.reduce((c, x) => c + (Math.abs(x) > t ? 1 : 0), 0);
    const expected = p * N;
    assert.ok(Math.abs(count - expected) < 5 * Math.sqrt(expected), `P(|x| > ${t}): ${count} draws, expected ${expected.toFixed(0)}`);
  }
});

it('has mean 0, variance 1 and kurtosis 3', () => {
  let m = 0;
  for (const x of sample) m += x;
  m /= N;
  let v = 0;
  let k = 0;
  for (const x of sample) {
    v += (x - m) ** 2;
    k += (x - m) ** 4;
  }
  v /= N;
  k = k / N / (v * v);
  assert.ok(Math.abs(m) < 5 / Math.sqrt(N), `mean ${m}`);
  assert.ok(Math.abs(v - 1) < 5 * Math.sqrt(2 / N), `variance ${v}`);
  assert.ok(Math.abs(k - 3) < 5 * Math.sqrt(24 / N), `kurtosis ${k}`);
});

it('draws neighbours and other seeds independently', () => {
  const other = new NormalStream(12346).fill(new Float32Array(N));
  let lag = 0;
  let cross = 0;
  for (let i = 0; i < N - 1; i++) {
    lag += sample[i]! * sample[i + 1]!;
    cross += sample[i]! * other[i]!;
  }
  assert.ok(Math.abs(lag / N) < 5 / Math.sqrt(N), `lag-1 correlation ${lag / N}`);
  assert.ok(Math.abs(cross / N) < 5 / Math.sqrt(N), `correlation between seeds ${cross / N}`);
});

it('repeats for a seed, however the draws are split', () => {
  const stream = new NormalStream(12345);
  const parts = [stream.fill(new Float32Array(1000)), stream.fill(new Float32Array(24))];
  assert.deepEqual([...parts[0]!, ...parts[1]!], [...sample.subarray(0, 1024)]);
  assert.throws(() => new NormalStream(-1), /seed must be an integer/);
});
