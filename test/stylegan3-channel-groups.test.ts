/**
 * StyleGAN3's filtered_lrelu differentiated in channel groups (generators/stylegan3/filtered-lrelu.ts), the
 * backward pass that lets the 1024 px layers fit in memory, against the same layer differentiated whole: the
 * values and gradients must agree, and each group must wait for the one before it (else ONNX Runtime may run
 * them side by side and nothing is saved).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { grad } from '../src/engine/grad.js';
import { Graph } from '../src/engine/graph.js';
import { mul, sumAll } from '../src/engine/ops.js';
import { Session } from '../src/engine/session.js';
import { DEFAULT_HYPERPARAMETERS, layerPlan } from '../src/generators/stylegan3/architecture.js';
import { filteredLrelu, type FilteredLreluSpec } from '../src/generators/stylegan3/filtered-lrelu.js';
import { upfirdnLength } from '../src/generators/stylegan3/upfirdn-axis.js';
import { ancestors } from './helpers/ancestors.js';
import { Rng } from './helpers/random.js';

const CHANNELS = 21; // padded to 24: three blocks of 8

for (const radial of [false, true]) {
  it(`${radial ? 'StyleGAN3-R (radial downsampling)' : 'StyleGAN3-T (separable downsampling)'}: the grouped gradient equals the whole one, groups one after another`, async () => {
    const rng = new Rng(radial ? 23 : 29);
    const plan = layerPlan({ ...DEFAULT_HYPERPARAMETERS, resolution: 16, convKernel: radial ? 1 : 3, useRadialFilters: radial });
    const layer = plan.layers.find((l) => l.up > 1 && l.down > 1 && l.downRadial === radial)!;
    const spec: FilteredLreluSpec = {
      up: layer.up,
      down: layer.down,
      padding: layer.padding,
      upFilter: { data: rng.randn([layer.upTaps]), shape: [layer.upTaps] },
      downFilter: radial ? { data: rng.randn([layer.downTaps ** 2]), shape: [layer.downTaps, layer.downTaps] } : { data: rng.randn([layer.downTaps]), shape: [layer.downTaps] },
      gain: Math.SQRT2,
      slope: 0.2,
      clamp: 1.5,
    };
    const side = layer.inSize + layer.convKernel - 1;
    const shape = [2, CHANNELS, side, side];
    const upsampled = upfirdnLength(side, { taps: spec.upFilter!.data, up: spec.up, down: 1, before: layer.padding[0], after: layer.padding[1] });
    const blockBytes = 4 * 2 * upsampled ** 2 * 8;
    const bias = rng.randn([CHANNELS]);
    const x = rng.randn(shape);
    const build = (groupBytes: number) => {
      const g = new Graph('groups');
      const input = g.input('x', shape);
      const y = filteredLrelu(g, input, bias, spec, groupBytes);
      g.output('y', y);
      g.output('gx', grad(sumAll(mul(y, g.input('r', y.shape))), [input])[0]!);
      return { g, y };
    };
    const whole = build(Infinity);
    const groupedGraph = build(blockBytes);
    const r = rng.randn(whole.y.shape);

    // The gradient is the three groups' concatenated (then sliced back to 21 channels), each read through a zero of the one before.
    const channelConcat = (g: Graph) => g.nodes.filter((n) => n.op === 'Concat' && n.attrs.axis === 1);
    const concat = channelConcat(groupedGraph.g).find((n) => n.inputs.length === 3 && n.outputs[0]!.shape[1] === 24);
    assert.ok(concat, 'the backward pass runs in three groups');
    concat.inputs.slice(1).forEach((part, k) => {
      assert.ok(ancestors(part).has(concat.inputs[k]!.id), `group ${k + 1} waits for group ${k}`);
    });
    assert.deepEqual(channelConcat(whole.g), [], 'a budget it fits in leaves one group');

    const results = [];
    for (const { g } of [whole, groupedGraph]) {
      const session = await Session.fromGraph(g, { threads: 1 });
      results.push(await session.run({ x: { data: x, shape }, r: { data: r, shape: [...whole.y.shape] } }));
      await session.release();
    }
    const [a, b] = [results[0]!, results[1]!];
    assert.deepEqual(Array.from(b.y!.data), Array.from(a.y!.data));
    let largest = 0;
    for (let i = 0; i < a.gx!.data.length; i++) largest = Math.max(largest, Math.abs(a.gx!.data[i]!));
    assert.ok(largest > 0.1, 'the gradient is not trivially zero');
    for (let i = 0; i < a.gx!.data.length; i++) {
      assert.ok(Math.abs(b.gx!.data[i]! - a.gx!.data[i]!) <= 1e-5 * largest, `gx[${i}]: ${b.gx!.data[i]} vs ${a.gx!.data[i]}`);
    }
  });
}
