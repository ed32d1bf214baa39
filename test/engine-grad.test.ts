/**
 * Finite-difference tests of every VJP rule in src/engine/vjp.ts, and of grad() itself.
 *
 * For a builder f and small random inputs x₁…xₖ, the graph computes y = f(x₁…xₖ) and the analytic
 * gradients of L = Σ y·R (R a fixed random tensor) with grad(). The same ONNX Runtime session then runs at
 * x ± ε·eᵢ for every element; L is formed on the host in float64 from the float32 y, and the central
 * difference (L(x+) − L(x−)) / (x+ − x−) uses the float32-rounded step. Agreement is measured per input
 * as ‖analytic − numeric‖₂ / ‖numeric‖₂ ≤ 1e-2: float32 forward passes and ε ≈ 1e-2 leave errors around
 * 1e-4…1e-3, while a wrong rule (sign, transposition, missing term) is off by O(1). Negative controls at
 * the end show the check fails for a 3 % scaling, a sign flip, and for deliberately broken rules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkpoint } from '../src/engine/checkpoint.js';
import { grad } from '../src/engine/grad.js';
import { Graph, type Node, type Value } from '../src/engine/graph.js';
import * as ops from '../src/engine/ops.js';
import { Session } from '../src/engine/session.js';
import { sumTo, vjpRules, type VjpRule } from '../src/engine/vjp.js';
import { ancestors } from './helpers/ancestors.js';
import * as ref from './helpers/reference.js';
import { Rng } from './helpers/random.js';

const TOL = 1e-2;

interface HostT {
  data: Float32Array;
  shape: number[];
}

const T = (data: Float32Array, shape: number[]): HostT => ({ data, shape });
const randn = (rng: Rng, shape: number[], scale = 1) => T(rng.randn(shape, scale), shape);

/** VJP rules whose op appeared on a differentiated path in some check below. */
const testedRules = new Set<string>();

interface GradResult {
  analytic: Float32Array[];
  numeric: Float64Array[];
  /** Per input: ‖analytic − numeric‖ / ‖numeric‖. */
  errors: number[];
}

function relErr(a: ArrayLike<number>, n: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < n.length; i++) {
    d += (a[i]! - n[i]!) ** 2;
    s += n[i]! ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(s), 1e-12);
}

function dot(y: Float32Array, r: Float32Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * r[i]!;
  return s;
}

/** Ops of nodes that depend on `roots` (the nodes grad() will run VJP rules for). */
function opsOnPath(g: Graph, roots: readonly Value[], from: number): string[] {
  const live = new Set(roots.map((v) => v.id));
  const seen: string[] = [];
  for (const node of g.nodes.slice(from)) {
    if (node.inputs.some((x) => live.has(x.id))) {
      for (const y of node.outputs) live.add(y.id);
      seen.push(node.op);
    }
  }
  return seen;
}

/**
 * Analytic gradients of L = Σ build(xs)·R with respect to every x, and their central differences.
 * `transform` may alter the analytic gradients before they are compared (negative controls).
 */
async function gradCheck(
  xs: readonly HostT[],
  build: (vs: Value[], g: Graph) => Value,
  opts: { eps?: number; seed?: number; transform?: (g: Float32Array[]) => Float32Array[] } = {},
): Promise<GradResult> {
  const eps = opts.eps ?? 1e-2;
  const g = new Graph('grad-check');
  const vs = xs.map((t, i) => g.input(`x${i}`, t.shape));
  const start = g.nodes.length;
  const y = build(vs, g);
  const path = opsOnPath(g, vs, start);
  const r = new Rng(opts.seed ?? 1000).randn(y.shape);
  const gs = grad(ops.sumAll(ops.mul(y, g.constant(r, y.shape))), vs);
  g.output('y', y);
  gs.forEach((gi, i) => g.output(`g${i}`, gi));
  const session = await Session.fromGraph(g, { threads: 1 });
  try {
    const feeds = Object.fromEntries(xs.map((t, i) => [`x${i}`, { data: t.data.slice(), shape: t.shape }]));
    const base = await session.run(feeds);
    let analytic = xs.map((_, i) => base[`g${i}`]!.data);
    analytic.forEach((_, i) => assert.deepEqual(base[`g${i}`]!.shape, xs[i]!.shape, `gradient ${i}: shape`));
    if (opts.transform) analytic = opts.transform(analytic.map((a) => a.slice()));
    const loss = async () => dot((await session.run(feeds)).y!.data, r);
    const numeric: Float64Array[] = [];
    for (let i = 0; i < xs.length; i++) {
      const x = feeds[`x${i}`]!.data;
      const num = new Float64Array(x.length);
      for (let j = 0; j < x.length; j++) {
        const orig = x[j]!;
        const plus = Math.fround(orig + eps);
        const minus = Math.fround(orig - eps);
        x[j] = plus;
        const lp = await loss();
        x[j] = minus;
        const lm = await loss();
        x[j] = orig;
        num[j] = (lp - lm) / (plus - minus);
      }
      numeric.push(num);
    }
    for (const op of path) testedRules.add(op);
    return { analytic, numeric, errors: analytic.map((a, i) => relErr(a, numeric[i]!)) };
  } finally {
    await session.release();
  }
}

function assertGradOk(res: GradResult, what: string): void {
  res.errors.forEach((e, i) => {
    assert.ok(e <= TOL, `${what}: input ${i}: ‖analytic − numeric‖/‖numeric‖ = ${e.toExponential(2)} > ${TOL}`);
  });
}

async function expectGrad(xs: readonly HostT[], build: (vs: Value[], g: Graph) => Value, what: string, eps?: number) {
  assertGradOk(await gradCheck(xs, build, { eps }), what);
}

/** Normal samples pushed at least `margin` away from each of `kinks` (where a rule is not differentiable). */
function awayFrom(rng: Rng, shape: number[], kinks: number[], margin: number): HostT {
  const data = rng.randn(shape);
  for (let i = 0; i < data.length; i++) {
    while (kinks.some((k) => Math.abs(data[i]! - k) < margin)) data[i] = rng.normal();
  }
  return T(data, shape);
}

describe('VJP rules: elementwise', () => {
  it('Identity', async () => {
    const rng = new Rng(1);
    await expectGrad([randn(rng, [2, 3])], ([x]) => ops.identity(x!), 'identity');
  });

  it('Add: both inputs, broadcast (sumTo) paths, number operand', async () => {
    const rng = new Rng(2);
    await expectGrad([randn(rng, [2, 3, 4]), randn(rng, [3, 1])], ([x, y]) => ops.add(x!, y!), 'add [2,3,4]+[3,1]');
    await expectGrad([randn(rng, [4]), randn(rng, [2, 1, 4])], ([x, y]) => ops.add(x!, y!), 'add [4]+[2,1,4]');
    await expectGrad([randn(rng, [2, 1, 3]), randn(rng, [1, 4, 1])], ([x, y]) => ops.add(x!, y!), 'add both broadcast');
    await expectGrad([randn(rng, [2, 3])], ([x]) => ops.add(x!, 2), 'add(x, 2)');
  });

  it('Sub: both inputs, broadcast paths, number first', async () => {
    const rng = new Rng(3);
    await expectGrad([randn(rng, [2, 3, 4]), randn(rng, [3, 1])], ([x, y]) => ops.sub(x!, y!), 'sub [2,3,4]-[3,1]');
    await expectGrad([randn(rng, [3]), randn(rng, [2, 3])], ([x, y]) => ops.sub(x!, y!), 'sub [3]-[2,3]');
    await expectGrad([randn(rng, [2, 3])], ([x]) => ops.sub(1.5, x!), 'sub(1.5, x)');
  });

  it('Mul: both inputs, broadcast paths, a value times itself', async () => {
    const rng = new Rng(4);
    await expectGrad([randn(rng, [2, 1, 3]), randn(rng, [1, 4, 1])], ([x, y]) => ops.mul(x!, y!), 'mul both broadcast');
    await expectGrad([randn(rng, [2, 3]), randn(rng, [])], ([x, y]) => ops.mul(x!, y!), 'mul by a scalar input');
    await expectGrad([randn(rng, [2, 3])], ([x]) => ops.mul(x!, x!), 'mul(x, x)');
    await expectGrad([randn(rng, [2, 3])], ([x]) => ops.square(x!), 'square');
  });

  it('Div: both inputs, broadcast paths', async () => {
    const rng = new Rng(5);
    const den = (shape: number[]) => T(rng.awayFromZero(shape, 0.5, 2), shape);
    await expectGrad([randn(rng, [2, 3]), den([3])], ([x, y]) => ops.div(x!, y!), 'div [2,3]/[3]');
    await expectGrad([randn(rng, [3, 1]), den([2, 1, 4])], ([x, y]) => ops.div(x!, y!), 'div [3,1]/[2,1,4]');
    await expectGrad([den([2, 3])], ([x]) => ops.div(1, x!), 'div(1, x)');
  });

  it('Neg, Exp, Sigmoid, Sin', async () => {
    const rng = new Rng(6);
    await expectGrad([randn(rng, [2, 3], 2)], ([x]) => ops.sin(x!), 'sin');
    await expectGrad([randn(rng, [2, 3])], ([x]) => ops.neg(x!), 'neg');
    await expectGrad([randn(rng, [2, 3])], ([x]) => ops.exp(x!), 'exp');
    await expectGrad([randn(rng, [2, 3], 2)], ([x]) => ops.sigmoid(x!), 'sigmoid');
  });

  it('Sqrt, Reciprocal (and rsqrt, their composition)', async () => {
    const rng = new Rng(7);
    await expectGrad([T(rng.rand([2, 3], 0.5, 2), [2, 3])], ([x]) => ops.sqrt(x!), 'sqrt');
    await expectGrad([T(rng.awayFromZero([2, 3], 0.5, 2), [2, 3])], ([x]) => ops.reciprocal(x!), 'reciprocal');
    await expectGrad([T(rng.rand([2, 3], 0.5, 2), [2, 3])], ([x]) => ops.rsqrt(x!), 'rsqrt');
  });

  it('LeakyRelu (inputs away from the kink)', async () => {
    const rng = new Rng(8);
    for (const alpha of [0.2, 0.01]) {
      await expectGrad([awayFrom(rng, [3, 4], [0], 0.05)], ([x]) => ops.leakyRelu(x!, alpha), `leakyRelu ${alpha}`);
    }
  });

  it('Clip (inputs inside, below and above, away from the bounds)', async () => {
    const rng = new Rng(9);
    const x = awayFrom(rng, [4, 5], [-0.5, 0.5], 0.05);
    await expectGrad([x], ([v]) => ops.clip(v!, -0.5, 0.5), 'clip');
  });

  it('Where: both branches with three-way broadcast; condition computed from x', async () => {
    const rng = new Rng(10);
    await expectGrad([randn(rng, [3, 4]), randn(rng, [4])], ([a, b], g) => {
      const cond = ops.greater(g.constant(rng.randn([2, 1, 4]), [2, 1, 4]), 0);
      return ops.where(cond, a!, b!);
    }, 'where(c, a, b)');
    await expectGrad([awayFrom(rng, [3, 4], [0], 0.05)], ([x]) => ops.where(ops.greater(x!, 0), x!, ops.mul(x!, 0.3)), 'where(x > 0, x, 0.3x)');
    await expectGrad([randn(rng, [2, 3])], ([x], g) => ops.where(ops.greater(g.constant(rng.randn([2, 3]), [2, 3]), 0), 1.5, x!), 'where(c, 1.5, x)');
  });
});

describe('VJP rules: linear algebra', () => {
  it('MatMul: both inputs, broadcast batch dimensions on either side', async () => {
    const rng = new Rng(11);
    const cases: Array<[number[], number[]]> = [
      [[3, 4], [4, 5]],
      [[2, 3, 4], [4, 5]],
      [[3, 4], [2, 4, 5]],
      [[2, 1, 3, 4], [3, 4, 2]],
    ];
    for (const [sa, sb] of cases) {
      await expectGrad([randn(rng, sa), randn(rng, sb)], ([a, b]) => ops.matmul(a!, b!), `matmul ${JSON.stringify([sa, sb])}`);
    }
  });

  interface ConvCase {
    x: number[];
    w: number[];
    pads?: [number, number, number, number];
    group?: number;
    strides?: [number, number];
    what: string;
  }
  const convCases: ConvCase[] = [
    { x: [1, 2, 5, 5], w: [3, 2, 3, 3], what: 'no padding' },
    { x: [2, 2, 4, 5], w: [3, 2, 3, 3], pads: [1, 1, 1, 1], what: 'same padding, batch 2' },
    { x: [1, 2, 4, 5], w: [3, 2, 3, 2], pads: [2, 0, 1, 1], what: 'asymmetric pads, non-square kernel' },
    { x: [1, 3, 4, 4], w: [3, 3, 2, 2], pads: [1, 0, 0, 1], what: 'even kernel, square channels' },
    { x: [1, 4, 4, 4], w: [6, 2, 3, 3], pads: [1, 2, 1, 0], group: 2, what: 'group 2' },
    { x: [2, 3, 4, 5], w: [3, 1, 3, 3], pads: [1, 1, 1, 1], group: 3, what: 'depthwise' },
    { x: [1, 2, 4, 5], w: [4, 1, 2, 3], pads: [0, 2, 1, 0], group: 2, what: 'depthwise, multiplier 2, non-square' },
    { x: [1, 2, 7, 8], w: [2, 1, 3, 3], pads: [1, 0, 0, 2], group: 2, strides: [2, 3], what: 'strides 2, 3, rows the last window never reaches' },
    { x: [1, 2, 8, 5], w: [2, 2, 4, 1], pads: [3, 0, 2, 0], strides: [2, 1], what: 'stride 2 along H, 1-D kernel, the cotangent trimmed' },
    { x: [1, 3, 4, 5], w: [2, 3, 1, 2], pads: [1, 2, 0, 3], what: 'padding beyond kernel − 1 (outputs of zeros only, their cotangent cropped)' },
    { x: [1, 2, 7, 6], w: [2, 2, 2, 1], pads: [3, 1, 2, 2], strides: [2, 2], what: 'strided, padding beyond kernel − 1 at both ends' },
  ];
  for (const c of convCases) {
    it(`Conv: ${c.what}`, async () => {
      const rng = new Rng(12);
      const w = rng.randn(c.w);
      await expectGrad([randn(rng, c.x)], ([x], g) => ops.conv(x!, g.constant(w, c.w), { pads: c.pads, group: c.group, strides: c.strides }), c.what);
    });
  }
});

describe('VJP rules: layout', () => {
  it('Reshape', async () => {
    const rng = new Rng(13);
    await expectGrad([randn(rng, [2, 3, 4])], ([x]) => ops.reshape(x!, [4, -1]), 'reshape');
  });

  it('Transpose', async () => {
    const rng = new Rng(14);
    await expectGrad([randn(rng, [2, 3, 4])], ([x]) => ops.transpose(x!, [2, 0, 1]), 'transpose [2,0,1]');
    await expectGrad([randn(rng, [2, 3, 2, 3])], ([x]) => ops.transpose(x!, [0, 2, 3, 1]), 'transpose [0,2,3,1]');
  });

  it('Expand', async () => {
    const rng = new Rng(15);
    await expectGrad([randn(rng, [3, 1])], ([x]) => ops.expand(x!, [2, 3, 4]), 'expand [3,1] → [2,3,4]');
    await expectGrad([randn(rng, [2, 1])], ([x]) => ops.expand(x!, [1, 3]), 'expand [2,1] by [1,3]');
  });

  it('Concat: every input, with a constant among them, negative axis', async () => {
    const rng = new Rng(16);
    await expectGrad([randn(rng, [2, 1, 3]), randn(rng, [2, 2, 3])], ([a, b], g) => {
      return ops.concat([a!, g.constant(rng.randn([2, 2, 3]), [2, 2, 3]), b!], -2);
    }, 'concat');
    await expectGrad([randn(rng, [2, 3])], ([a]) => ops.concat([a!, a!], 0), 'concat a value with itself');
  });

  it('Slice: negative axis, interior and edge ranges', async () => {
    const rng = new Rng(17);
    await expectGrad([randn(rng, [2, 3, 5])], ([x]) => ops.slice(x!, -1, 1, 4), 'slice axis -1');
    await expectGrad([randn(rng, [3, 2])], ([x]) => ops.slice(x!, 0, 0, 2), 'slice axis 0 from the start');
  });

  it('Pad: asymmetric on several axes', async () => {
    const rng = new Rng(18);
    await expectGrad([randn(rng, [1, 2, 3, 2])], ([x]) => ops.pad(x!, [0, 1, 2, 0, 1, 0, 0, 3]), 'pad');
  });

  it('DepthToSpace and SpaceToDepth (DCR)', async () => {
    const rng = new Rng(19);
    await expectGrad([randn(rng, [1, 8, 2, 3])], ([x]) => ops.depthToSpace(x!, 2), 'depthToSpace');
    await expectGrad([randn(rng, [1, 2, 4, 6])], ([x]) => ops.spaceToDepth(x!, 2), 'spaceToDepth');
  });

  it('interleave2x2', async () => {
    const rng = new Rng(20);
    const planes = [0, 1, 2, 3].map(() => randn(rng, [2, 2, 3, 2]));
    await expectGrad(planes, ([a, b, c, d]) => ops.interleave2x2([[a!, b!], [c!, d!]]), 'interleave2x2');
  });
});

describe('VJP rules: reductions and normalisations', () => {
  it('ReduceSum: axes, negative axes, keepdims, sumAll', async () => {
    const rng = new Rng(20);
    await expectGrad([randn(rng, [2, 3, 4])], ([x]) => ops.reduceSum(x!, [1]), 'reduceSum [1]');
    await expectGrad([randn(rng, [2, 3, 4])], ([x]) => ops.reduceSum(x!, [-1, 0], true), 'reduceSum [-1, 0] keepdims');
    await expectGrad([randn(rng, [2, 3])], ([x]) => ops.sumAll(x!), 'sumAll');
  });

  it('ReduceMean: axes, negative axes, keepdims', async () => {
    const rng = new Rng(21);
    await expectGrad([randn(rng, [2, 3, 4])], ([x]) => ops.reduceMean(x!, [0, 2]), 'reduceMean [0, 2]');
    await expectGrad([randn(rng, [2, 3, 4])], ([x]) => ops.reduceMean(x!, [-1], true), 'reduceMean [-1] keepdims');
  });

  it('Softmax: axis 1 and -1', async () => {
    const rng = new Rng(22);
    await expectGrad([randn(rng, [2, 3, 4], 2)], ([x]) => ops.softmax(x!, 1), 'softmax axis 1');
    await expectGrad([randn(rng, [2, 3, 4], 2)], ([x]) => ops.softmax(x!, -1), 'softmax axis -1');
  });

  it('LayerNormalization over the last axis', async () => {
    const rng = new Rng(23);
    const scale = rng.randn([5]);
    const bias = rng.randn([5]);
    await expectGrad([randn(rng, [2, 3, 5], 2)], ([x], g) => ops.layerNorm(x!, g.constant(scale, [5]), g.constant(bias, [5]), 1e-5), 'layerNorm');
  });
});

describe('grad', () => {
  it('through a composed network: conv → leakyRelu → layerNorm → matmul → softmax', async () => {
    const rng = new Rng(24);
    const xShape = [1, 2, 4, 5];
    const wShape = [3, 2, 3, 3];
    const x = randn(rng, xShape);
    const w = rng.randn(wShape, 0.5);
    const scale = rng.randn([5]);
    const bias = rng.randn([5]);
    const m = rng.randn([5, 4]);
    const eps = 1e-3;
    // Central differences are only valid if no pre-activation crosses the LeakyRelu kink within ±ε·Σ|w|.
    const pre = ref.conv2d(ref.arr(x.data, xShape), ref.arr(w, wShape), [1, 1, 1, 1]);
    const wmax = w.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
    assert.ok(Math.min(...Array.from(pre.data, Math.abs)) > 2 * eps * wmax, 'test data too close to the LeakyRelu kink');
    await expectGrad([x], ([v], g) => {
      const h = ops.leakyRelu(ops.conv(v!, g.constant(w, wShape), { pads: [1, 1, 1, 1] }), 0.2);
      const n = ops.layerNorm(h, g.constant(scale, [5]), g.constant(bias, [5]), 1e-5);
      return ops.softmax(ops.matmul(n, g.constant(m, [5, 4])), -1);
    }, 'network', eps);
  });

  it('accumulates cotangents when a value feeds several consumers', async () => {
    const rng = new Rng(25);
    await expectGrad([randn(rng, [2, 3])], ([x]) => ops.add(ops.mul(ops.exp(x!), ops.sigmoid(x!)), x!), 'exp(x)·σ(x) + x');
    // x [3] is broadcast into one consumer and used at its own shape by another (sumTo + accumulation).
    await expectGrad([randn(rng, [3]), randn(rng, [2, 3])], ([x, y]) => ops.mul(ops.add(x!, y!), ops.reshape(ops.exp(x!), [1, 3])), 'shared broadcast input');
    // One value used by three different ops, then recombined.
    await expectGrad([randn(rng, [2, 4])], ([x]) => {
      const h = ops.mul(x!, 0.5);
      return ops.concat([ops.softmax(h, -1), ops.transpose(ops.matmul(ops.transpose(h, [1, 0]), h), [1, 0]), h], 0);
    }, 'diamond');
  });

  it('matches an explicit seed cotangent, and gives zeros for values the loss ignores', async () => {
    const g = new Graph();
    const x = g.input('x', [2, 3]);
    const unused = g.input('unused', [4]);
    const y = ops.exp(x);
    const seed = g.input('seed', [2, 3]);
    const [gx, gu] = grad(y, [x, unused], seed);
    const [gx2] = grad(ops.sumAll(ops.mul(y, seed)), [x]);
    g.output('gx', gx!);
    g.output('gx2', gx2!);
    g.output('gu', gu!);
    const s = await Session.fromGraph(g, { threads: 1 });
    const rng = new Rng(26);
    const out = await s.run({ x: randn(rng, [2, 3]), unused: randn(rng, [4]), seed: randn(rng, [2, 3]) });
    await s.release();
    assert.ok(relErr(out.gx!.data, out.gx2!.data) < 1e-6);
    assert.deepEqual(Array.from(out.gu!.data), [0, 0, 0, 0]);
    assert.throws(() => grad(y, [x]), /grad: a non-scalar loss needs a seed cotangent/);
  });

  it('a missing VJP rule is an error that names the op', () => {
    const g = new Graph();
    const x = g.input('x', [4, 3]);
    const picked = ops.gather(x, g.ints([2, 0]), 0);
    assert.throws(() => grad(ops.sumAll(picked), [x]), /no VJP rule for op Gather/);
    // Ops off the path need no rule: the gathered rows of a constant, and a comparison feeding Where.
    const c = ops.gather(g.constant(new Float32Array(12), [4, 3]), g.ints([1]), 0);
    assert.doesNotThrow(() => grad(ops.sumAll(ops.mul(ops.where(ops.greater(x, 0), x, 0), c)), [x]));
  });

  it('a composite is differentiated by its own rule, once, and refuses inner values used outside', async () => {
    // Inside: y = 2x through three ops. Its rule claims 3·ȳ, so the gradient shows which one ran.
    const build = (g: Graph, x: Value) => g.composite([x], () => ops.add(ops.mul(x, 0.5), ops.mul(x, 1.5)), (gy) => [ops.mul(gy, 3)]);
    const g = new Graph();
    const x = g.input('x', [2, 3]);
    const y = build(g, x);
    g.output('gx', grad(ops.sumAll(ops.add(y, ops.mul(x, 1))), [x])[0]!);
    const session = await Session.fromGraph(g, { threads: 1 });
    const out = await session.run({ x: { data: new Float32Array(6).fill(1), shape: [2, 3] } });
    await session.release();
    assert.deepEqual(Array.from(out.gx!.data), new Array(6).fill(4)); // 3 from the rule + 1 from the direct path

    const h = new Graph();
    const hx = h.input('x', [2]);
    let inner: Value | undefined;
    const hy = h.composite([hx], () => ops.mul((inner = ops.mul(hx, 2)), 3), (gy) => [ops.mul(gy, 6)]);
    assert.throws(() => grad(ops.sumAll(ops.add(hy, inner!)), [hx]), /inside a composite \(from its Mul node\) is used outside/);
    const outside = h.input('z', [2]);
    assert.throws(() => h.composite([hx], () => ops.mul(hx, outside), (gy) => [gy]), /reads a value that is neither one of its inputs nor a constant/);
  });

  it('a checkpoint gives its segment\'s gradient from a copy that waits for the cotangent', async () => {
    // y = lrelu(x·s)·x with a composite inside (so composites nest), then a loss that is not linear in y.
    const segment = ([x, s]: readonly Value[]) => {
      const g = x!.graph;
      const doubled = g.composite([x!], () => ops.add(x!, x!), (gy) => [ops.mul(gy, 2)]);
      return ops.mul(ops.leakyRelu(ops.mul(doubled, s!), 0.2), x!);
    };
    const rng = new Rng(61);
    const feeds = { x: { data: rng.randn([2, 3]), shape: [2, 3] }, s: { data: rng.randn([1, 3]), shape: [1, 3] } };
    const run = async (g: Graph, inputs: Record<string, { data: Float32Array; shape: number[] }>) => {
      const session = await Session.fromGraph(g, { threads: 1 });
      const out = await session.run(inputs);
      await session.release();
      return out;
    };
    const gradients = (g: Graph, x: Value, s: Value, y: Value) => {
      const [gx, gs] = grad(ops.sumAll(ops.square(y)), [x, s]);
      g.output('gx', gx!);
      g.output('gs', gs!);
    };
    const plain = new Graph();
    const [px, ps] = [plain.input('x', [2, 3]), plain.input('s', [1, 3])];
    const py = segment([px, ps]);
    plain.output('y', py);
    gradients(plain, px, ps, py);
    const reference = await run(plain, feeds);

    const g = new Graph();
    const [x, s] = [g.input('x', [2, 3]), g.input('s', [1, 3])];
    const y = checkpoint([x, s], g.input('y', [2, 3]), segment);
    const forwardNodes = new Set(g.nodes);
    gradients(g, x, s, y);
    const out = await run(g, { ...feeds, y: { data: reference.y!.data as Float32Array, shape: [2, 3] } });
    for (const name of ['gx', 'gs']) assert.ok(relErr(out[name]!.data, reference[name]!.data) < 1e-6, name);

    assert.deepEqual([...forwardNodes].map((n) => n.op), ['Identity'], 'the stored output stands in for the segment');
    const afterY = new Set([y.id]);
    for (const n of g.nodes) if (n.inputs.some((v) => afterY.has(v.id))) for (const o of n.outputs) afterY.add(o.id);
    const copies = g.nodes.filter((n) => n.op === 'LeakyRelu');
    assert.equal(copies.length, 1, 'the backward pass builds the segment once');
    assert.ok(afterY.has(copies[0]!.outputs[0]!.id), 'the copy must wait for the cotangent');
    // gs is summed only at the end; were gx (the larger, which the previous segment waits for) free of it,
    // ONNX Runtime could compute gs last and keep the copy's large values until then.
    const gx = g.outputs.find((v) => v.name === 'gx')!;
    const gs = g.outputs.find((v) => v.name === 'gs')!;
    const before = ancestors(gx);
    const gsSources = gs.producer!.inputs.filter((v) => v.producer && v.shape.length > 0);
    assert.ok(gsSources.length > 0 && gsSources.every((v) => before.has(v.id)), 'the largest gradient waits for the others');
    assert.throws(() => grad(ops.sumAll(checkpoint([x, s], g.input('z', [3, 2]), segment)), [x]), /the segment makes \[2,3\], stored is \[3,2\]/);
  });

  it('asking for a Conv weight gradient is an error', () => {
    const g = new Graph();
    const x = g.input('x', [1, 2, 4, 4]);
    const w = g.constant(new Float32Array(3 * 2 * 9), [3, 2, 3, 3]);
    const loss = ops.sumAll(ops.conv(x, w, { pads: [1, 1, 1, 1] }));
    assert.throws(() => grad(loss, [w]), /Conv weights are frozen constants; no gradient with respect to a weight/);
    assert.throws(() => grad(loss, [x, w]), /Conv weights are frozen/);
    // A weight that is a graph input (not a constant) cannot be differentiated through either.
    const wi = g.input('w', [3, 2, 3, 3]);
    assert.throws(() => grad(ops.sumAll(ops.conv(x, wi)), [wi]), /Conv weights are frozen/);
    assert.throws(() => grad(ops.sumAll(ops.conv(x, wi)), [x]), /Conv needs a constant weight/);
  });

  it('LayerNorm scale and bias gradients are refused', () => {
    const g = new Graph();
    const x = g.input('x', [2, 3]);
    const s = g.input('s', [3]);
    const loss = ops.sumAll(ops.layerNorm(x, s, g.constant(new Float32Array(3), [3]), 1e-5));
    assert.throws(() => grad(loss, [s]), /LayerNorm scale and bias are frozen/);
  });

  it('sumTo reduces broadcast axes and leading axes back to a shape', () => {
    const g = new Graph();
    const v = g.input('v', [2, 3, 4]);
    assert.deepEqual(sumTo(v, [3, 1]).shape, [3, 1]);
    assert.deepEqual(sumTo(v, [1, 1, 4]).shape, [1, 1, 4]);
    assert.deepEqual(sumTo(v, []).shape, []);
    assert.equal(sumTo(v, [2, 3, 4]), v);
  });
});

describe('negative controls: the check fails for wrong gradients', () => {
  const rng = new Rng(27);
  const convW = rng.randn([3, 3, 3, 2]);
  const convX = randn(rng, [1, 3, 4, 5]);
  const buildConv = ([x]: Value[], g: Graph) => ops.conv(x!, g.constant(convW, [3, 3, 3, 2]), { pads: [1, 0, 1, 1] });

  /** Runs `body` with vjpRules[op] replaced by `rule`. */
  async function withRule<R>(op: string, rule: VjpRule, body: () => Promise<R>): Promise<R> {
    const original = vjpRules[op]!;
    vjpRules[op] = rule;
    try {
      return await body();
    } finally {
      vjpRules[op] = original;
    }
  }

  /** The correct check passes on this case, so a failure below is due to the perturbation alone. */
  it('baseline passes', async () => {
    assertGradOk(await gradCheck([convX], buildConv), 'conv baseline');
  });

  it('a 3 % scaling or a sign flip of the analytic gradient fails', async () => {
    const scaled = await gradCheck([convX], buildConv, { transform: (gs) => gs.map((g) => g.map((v) => 1.03 * v)) });
    assert.ok(scaled.errors[0]! > TOL, `scaled gradient passed (${scaled.errors[0]})`);
    const flipped = await gradCheck([convX], buildConv, { transform: (gs) => gs.map((g) => g.map((v) => -v)) });
    assert.ok(flipped.errors[0]! > TOL);
    // One entry alone with a flipped sign.
    const one = await gradCheck([convX], buildConv, {
      transform: (gs) => gs.map((g) => {
        const k = g.reduce((best, v, i) => (Math.abs(v) > Math.abs(g[best]!) ? i : best), 0);
        g[k] = -g[k]!;
        return g;
      }),
    });
    assert.ok(one.errors[0]! > TOL, `one flipped entry passed (${one.errors[0]})`);
  });

  it('a Conv rule with an unflipped kernel fails, and so does one with untransposed channels', async () => {
    const original = vjpRules.Conv!;
    // Flip the weight in space before the real rule flips it again: net, a transposed but unflipped kernel.
    const unflipped: VjpRule = (n, gys, needs) => {
      const w = n.inputs[1]!;
      const [o, c, kh, kw] = w.shape as [number, number, number, number];
      const data = w.graph.initializers.get(w.id)!.data as Float32Array;
      const out = new Float32Array(data.length);
      for (let i = 0; i < o * c; i++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) out[(i * kh + y) * kw + x] = data[(i * kh + kh - 1 - y) * kw + kw - 1 - x]!;
      const fake: Node = { ...n, inputs: [n.inputs[0]!, w.graph.constant(out, w.shape)] };
      return original(fake, gys, needs);
    };
    const res = await withRule('Conv', unflipped, () => gradCheck([convX], buildConv));
    assert.ok(res.errors[0]! > TOL, `unflipped kernel passed (${res.errors[0]})`);
    // Swap the weight's O and C axes first (3 = 3 here): net, a flipped but untransposed kernel.
    const untransposed: VjpRule = (n, gys, needs) => {
      const w = n.inputs[1]!;
      const [o, c, kh, kw] = w.shape as [number, number, number, number];
      const data = w.graph.initializers.get(w.id)!.data as Float32Array;
      const out = new Float32Array(data.length);
      for (let a = 0; a < o; a++)
        for (let b = 0; b < c; b++)
          for (let k = 0; k < kh * kw; k++) out[(b * o + a) * kh * kw + k] = data[(a * c + b) * kh * kw + k]!;
      const fake: Node = { ...n, inputs: [n.inputs[0]!, w.graph.constant(out, [c, o, kh, kw])] };
      return original(fake, gys, needs);
    };
    const res2 = await withRule('Conv', untransposed, () => gradCheck([convX], buildConv));
    assert.ok(res2.errors[0]! > TOL, `untransposed kernel passed (${res2.errors[0]})`);
  });

  it('a Sub rule with the wrong sign on its second input fails there only', async () => {
    const original = vjpRules.Sub!;
    const wrong: VjpRule = (n, gys, needs) => {
      const [ga, gb] = original(n, gys, needs);
      return [ga, gb && ops.neg(gb)];
    };
    const xs = [randn(rng, [2, 3]), randn(rng, [3])];
    const res = await withRule('Sub', wrong, () => gradCheck(xs, ([a, b]) => ops.sub(a!, b!)));
    assert.ok(res.errors[0]! <= TOL);
    assert.ok(res.errors[1]! > TOL);
  });

  it('a Softmax rule without the normalisation term fails; a LayerNorm rule without the x̂ term fails', async () => {
    const softmaxWrong: VjpRule = (n, gys) => [ops.mul(n.outputs[0]!, gys[0]!)];
    const xs = [randn(rng, [2, 4], 2)];
    const res = await withRule('Softmax', softmaxWrong, () => gradCheck(xs, ([x]) => ops.softmax(x!, -1)));
    assert.ok(res.errors[0]! > TOL, `softmax without the sum term passed (${res.errors[0]})`);
    const lnWrong: VjpRule = (n, gys) => {
      const [x, scale] = n.inputs as [Value, Value];
      const centred = ops.sub(x, ops.reduceMean(x, [-1], true));
      const rstd = ops.rsqrt(ops.add(ops.reduceMean(ops.square(centred), [-1], true), 1e-5));
      const gxhat = ops.mul(gys[0]!, scale);
      return [ops.mul(ops.sub(gxhat, ops.reduceMean(gxhat, [-1], true)), rstd), undefined, undefined];
    };
    const scale = rng.randn([4]);
    const res2 = await withRule('LayerNormalization', lnWrong, () =>
      gradCheck(xs, ([x], g) => ops.layerNorm(x!, g.constant(scale, [4]), g.constant(new Float32Array(4), [4]), 1e-5)),
    );
    assert.ok(res2.errors[0]! > TOL, `layerNorm without the x̂ term passed (${res2.errors[0]})`);
  });
});

describe('coverage', () => {
  it('every VJP rule in vjp.ts was finite-difference tested above', () => {
    const missing = Object.keys(vjpRules).filter((op) => !testedRules.has(op));
    assert.deepEqual(missing, [], `VJP rules without a finite-difference test: ${missing.join(', ')}`);
  });
});
