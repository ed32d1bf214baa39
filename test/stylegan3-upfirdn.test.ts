/**
 * upfirdn along one axis as a depthwise convolution (generators/stylegan3/upfirdn-axis.ts) against
 * upfirdn2d's definition computed directly: insert zeros, pad or crop, convolve, keep every down-th sample;
 * and its gradient (the composite's adjoint rule) against the transpose of that definition: upfirdn is
 * linear, so d(Σ y·R)/dx[i] = Σₒ R[o] · upfirdn(eᵢ)[o].
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { grad } from '../src/engine/grad.js';
import { Graph } from '../src/engine/graph.js';
import { mul, sumAll } from '../src/engine/ops.js';
import { Session } from '../src/engine/session.js';
import { upfirdnAxis, upfirdnLength, type AxisFir } from '../src/generators/stylegan3/upfirdn-axis.js';
import { Rng } from './helpers/random.js';

/** One row: zero insertion, padding (negative crops), convolution with f, downsampling. */
function reference(x: ArrayLike<number>, f: AxisFir): number[] {
  const z: number[] = [];
  for (let i = 0; i < x.length; i++) z.push(x[i]!, ...new Array<number>(f.up - 1).fill(0));
  const padded = [...new Array<number>(Math.max(f.before, 0)).fill(0), ...z.slice(Math.max(-f.before, 0), z.length - Math.max(-f.after, 0)), ...new Array<number>(Math.max(f.after, 0)).fill(0)];
  const k = f.taps.length;
  const out: number[] = [];
  for (let o = 0; o + k <= padded.length; o += f.down) {
    let s = 0;
    for (let t = 0; t < k; t++) s += padded[o + t]! * f.taps[k - 1 - t]!;
    out.push(s);
  }
  return out;
}

const cases: Array<[string, AxisFir, number]> = [
  ['up 2, pads 9/8 (StyleGAN3-T)', { taps: new Rng(1).randn([12]), up: 2, down: 1, before: 9, after: 8 }, 38],
  ['up 4, crops −6/−9', { taps: new Rng(2).randn([24]), up: 4, down: 1, before: -6, after: -9 }, 38],
  ['down 2', { taps: new Rng(3).randn([12]), up: 1, down: 2, before: 0, after: 0 }, 93],
  ['up 2, crops −11/−12, a short row', { taps: new Rng(4).randn([12]), up: 2, down: 1, before: -11, after: -12 }, 20],
  ['up 3 and down 2 at once, long row (several blocks)', { taps: new Rng(5).randn([9]), up: 3, down: 2, before: 4, after: 2 }, 150],
];

for (const [what, f, length] of cases) {
  it(what, async () => {
    const rng = new Rng(7);
    const rows = 6;
    const data = rng.randn([1, 1, rows, length]);
    for (const axis of [3, 2] as const) {
      const shape = axis === 3 ? [1, 1, rows, length] : [1, 1, length, rows];
      const x = axis === 3 ? data : transposeLast(data, rows, length);
      const g = new Graph('upfirdn');
      const y = g.output('y', upfirdnAxis(g, g.input('x', shape), axis, f));
      const out = upfirdnLength(length, f);
      assert.deepEqual(y.shape, axis === 3 ? [1, 1, rows, out] : [1, 1, out, rows]);
      const session = await Session.fromGraph(g, { threads: 1 });
      const got = (await session.run({ x: { data: x, shape } })).y!.data;
      await session.release();
      const flat = axis === 3 ? got : transposeLast(got, out, rows);
      for (let r = 0; r < rows; r++) {
        const expected = reference(data.subarray(r * length, (r + 1) * length), f);
        assert.equal(expected.length, out);
        expected.forEach((e, o) => assert.ok(Math.abs(flat[r * out + o]! - e) < 1e-4, `axis ${axis} row ${r} sample ${o}: ${flat[r * out + o]} vs ${e}`));
      }
    }
  });
}

for (const [what, f, length] of cases) {
  it(`the gradient of ${what}`, async () => {
    const rng = new Rng(8);
    const rows = 3;
    const out = upfirdnLength(length, f);
    const x = rng.randn([1, 1, rows, length]);
    const r = rng.randn([1, 1, rows, out]);
    for (const axis of [3, 2] as const) {
      const g = new Graph('upfirdn-grad');
      const xv = g.input('x', axis === 3 ? [1, 1, rows, length] : [1, 1, length, rows]);
      const rv = g.input('r', axis === 3 ? [1, 1, rows, out] : [1, 1, out, rows]);
      g.output('gx', grad(sumAll(mul(upfirdnAxis(g, xv, axis, f), rv)), [xv])[0]!);
      const session = await Session.fromGraph(g, { threads: 1 });
      const feeds = axis === 3
        ? { x: { data: x, shape: [1, 1, rows, length] }, r: { data: r, shape: [1, 1, rows, out] } }
        : { x: { data: transposeLast(x, rows, length), shape: [1, 1, length, rows] }, r: { data: transposeLast(r, rows, out), shape: [1, 1, out, rows] } };
      const got = (await session.run(feeds)).gx!.data;
      await session.release();
      const flat = axis === 3 ? got : transposeLast(got, length, rows);
      for (let i = 0; i < length; i++) {
        const response = reference(Float32Array.from({ length }, (_, j) => (j === i ? 1 : 0)), f);
        for (let row = 0; row < rows; row++) {
          const expected = response.reduce((s, v, o) => s + v * r[row * out + o]!, 0);
          const value = flat[row * length + i]!;
          assert.ok(Math.abs(value - expected) < 1e-4, `axis ${axis} row ${row} input ${i}: ${value} vs ${expected}`);
        }
      }
    }
  });
}

/** [a, b] row-major → [b, a] (rows of the H case laid out like the W case). */
function transposeLast(x: Float32Array, a: number, b: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out[j * a + i] = x[i * b + j]!;
  return out;
}
