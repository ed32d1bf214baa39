/**
 * The leaky ReLU and clamp of StyleGAN3's filtered_lrelu (generators/stylegan3/filtered-lrelu.ts), one
 * composite op with its own gradient mask, against torch's rules written out on the host: with no filters,
 * y = clamp(lrelu((x + b) · gain)), and dy/dx = gain · (t > 0 ? 1 : slope) where lo ≤ lrelu(t) ≤ hi, else 0.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { grad } from '../src/engine/grad.js';
import { Graph } from '../src/engine/graph.js';
import { mul, sumAll } from '../src/engine/ops.js';
import { Session } from '../src/engine/session.js';
import { filteredLrelu } from '../src/generators/stylegan3/filtered-lrelu.js';
import { Rng } from './helpers/random.js';

const cases: Array<[string, number, number | null]> = [
  ['leaky ReLU and clamp (a synthesis layer)', 0.2, 1.5],
  ['clamp alone (ToRGB)', 1, 1.5],
  ['leaky ReLU alone (no conv_clamp)', 0.2, null],
];

for (const [what, slope, clamp] of cases) {
  it(`${what}: values and gradient by the input's range`, async () => {
    const rng = new Rng(17);
    const shape = [2, 3, 16, 16];
    const n = 2 * 3 * 16 * 16;
    // A sweep over [−12, 12): beyond −clamp/slope, on both sides of 0 and beyond clamp, densely near each edge.
    const x = Float32Array.from({ length: n }, (_, i) => -12 + (24 * i) / n + 0.01);
    const r = rng.randn(shape);
    const bias = Float32Array.of(0.3, -0.5, 1);
    const gain = Math.SQRT2;
    const g = new Graph('activation');
    const input = g.input('x', shape);
    const y = filteredLrelu(g, input, bias, { up: 1, down: 1, padding: [0, 0, 0, 0], upFilter: null, downFilter: null, gain, slope, clamp });
    g.output('y', y);
    g.output('gx', grad(sumAll(mul(y, g.input('r', shape))), [input])[0]!);
    const session = await Session.fromGraph(g, { threads: 1 });
    const out = await session.run({ x: { data: x, shape }, r: { data: r, shape } });
    await session.release();
    const regions = new Set<string>();
    for (let i = 0; i < n; i++) {
      const t = (x[i]! + bias[Math.floor(i / 256) % 3]!) * gain;
      const leaky = t > 0 ? t : t * slope;
      const inside = clamp === null || (leaky >= -clamp && leaky <= clamp);
      const expected = clamp === null ? leaky : Math.min(Math.max(leaky, -clamp), clamp);
      const derivative = inside ? gain * (t > 0 ? 1 : slope) : 0;
      regions.add(`${t > 0 ? '+' : '−'}${inside ? 'in' : 'out'}`);
      assert.ok(Math.abs(out.y!.data[i]! - expected) < 1e-5, `y[${i}]: ${out.y!.data[i]} vs ${expected}`);
      assert.ok(Math.abs(out.gx!.data[i]! - r[i]! * derivative) < 1e-5, `gx[${i}] at t = ${t}: ${out.gx!.data[i]} vs ${r[i]! * derivative}`);
    }
    assert.deepEqual([...regions].sort(), clamp === null ? ['+in', '−in'] : ['+in', '+out', '−in', '−out']);
  });
}
