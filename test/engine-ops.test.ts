/**
 * Forward tests of every op builder in src/engine/ops.ts: each builds a small graph, runs it in ONNX Runtime
 * through Session.fromGraph and compares with the float64 TypeScript reference (test/helpers/reference.ts).
 * Also: shape-inference errors, and that toOnnx serialises only what the outputs need.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Graph, type DType, type Value } from '../src/engine/graph.js';
import { toOnnx } from '../src/engine/onnx.js';
import * as ops from '../src/engine/ops.js';
import { Session, type Feeds } from '../src/engine/session.js';
import type { Tensor, TensorData } from '../src/core/tensor.js';
import * as ref from './helpers/reference.js';
import { Rng } from './helpers/random.js';

const RTOL = 1e-5;

/** Op builders that some test below exercises; checked against ops.ts's exports at the end. */
const covered = new Set<string>();
const covers = (...names: string[]) => names.forEach((n) => covered.add(n));

interface HostInput {
  data: Float32Array | BigInt64Array | Uint8Array;
  shape: number[];
}

const f32 = (data: Float32Array, shape: number[]): { data: Float32Array; shape: number[] } => ({ data, shape });
const A = (t: HostInput): ref.Arr => ref.arr(t.data instanceof BigInt64Array ? Array.from(t.data, Number) : t.data, t.shape);

function dtypeOf(t: { data: TensorData }): DType {
  if (t.data instanceof BigInt64Array) return 'int64';
  if (t.data instanceof Uint8Array) return 'bool';
  return 'float32';
}

/**
 * Builds a graph with one input per entry of `inputs`, runs `build` on them and returns the outputs
 * computed by ONNX Runtime. `build` returns one Value (output "y") or several named ones.
 */
async function forward(
  inputs: Record<string, HostInput>,
  build: (v: Record<string, Value>, g: Graph) => Value | Record<string, Value>,
): Promise<Record<string, Tensor<TensorData>>> {
  const g = new Graph('ops-test');
  const v: Record<string, Value> = {};
  for (const [name, t] of Object.entries(inputs)) v[name] = g.input(name, t.shape, dtypeOf(t));
  const built = build(v, g);
  const outs = 'graph' in built ? { y: built as Value } : (built as Record<string, Value>);
  const declared: Record<string, Value> = {};
  for (const [name, y] of Object.entries(outs)) {
    g.output(`out_${name}`, y);
    declared[name] = y;
  }
  const session = await Session.fromGraph(g, { threads: 1 });
  try {
    const raw = (await session.run(inputs as Feeds)) as Record<string, Tensor<TensorData>>;
    const result: Record<string, Tensor<TensorData>> = {};
    // The builder's inferred shape and dtype must be what ONNX Runtime actually produces.
    for (const [name, y] of Object.entries(declared)) {
      result[name] = raw[`out_${name}`]!;
      assert.deepEqual(result[name].shape, [...y.shape], `output ${name}: inferred shape differs from ONNX Runtime's`);
      assert.equal(dtypeOf(result[name]), y.dtype, `output ${name}: inferred dtype differs from ONNX Runtime's`);
    }
    return result;
  } finally {
    await session.release();
  }
}

function assertClose(actual: Tensor<TensorData>, expected: ref.Arr, what = '', rtol = RTOL): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.data instanceof BigInt64Array ? Array.from(actual.data, Number) : (actual.data as ArrayLike<number>);
  const err = ref.relError(a, expected.data);
  assert.ok(err <= rtol, `${what}: relative error ${err.toExponential(2)} > ${rtol}`);
}

async function check1(
  inputs: Record<string, HostInput>,
  build: (v: Record<string, Value>, g: Graph) => Value,
  expected: ref.Arr,
  what: string,
): Promise<void> {
  const out = await forward(inputs, build);
  assertClose(out.y!, expected, what);
}

describe('broadcastShapes', () => {
  it('follows NumPy rules and names both shapes when they do not broadcast', () => {
    covers('broadcastShapes');
    assert.deepEqual(ops.broadcastShapes([2, 3, 4], [3, 1]), [2, 3, 4]);
    assert.deepEqual(ops.broadcastShapes([4], [2, 1, 4]), [2, 1, 4]);
    assert.deepEqual(ops.broadcastShapes([2, 1, 3], [1, 4, 1]), [2, 4, 3]);
    assert.deepEqual(ops.broadcastShapes([], [2, 3]), [2, 3]);
    assert.deepEqual(ops.broadcastShapes([0, 1], [1, 5]), [0, 5]);
    assert.throws(() => ops.broadcastShapes([2, 3], [4], 'Add'), /Add: shapes \[2, 3\] and \[4\] do not broadcast/);
  });
});

describe('binary elementwise ops (broadcasting)', () => {
  const cases: Array<[number[], number[]]> = [
    [[2, 3, 4], [2, 3, 4]],
    [[2, 3, 4], [3, 1]],
    [[4], [2, 1, 4]],
    [[2, 1, 3], [1, 4, 1]],
    [[], [2, 3]],
    [[2, 3], []],
  ];
  const table = [
    ['add', ops.add, ref.add],
    ['sub', ops.sub, ref.sub],
    ['mul', ops.mul, ref.mul],
    ['div', ops.div, ref.div],
  ] as const;
  for (const [name, op, refOp] of table) {
    it(`${name}: broadcast shapes and number operands on either side`, async () => {
      covers(name);
      const rng = new Rng(11);
      for (const [sa, sb] of cases) {
        const a = f32(rng.randn(sa), sa);
        // Denominators stay away from zero so that the relative error is meaningful.
        const b = f32(name === 'div' ? rng.awayFromZero(sb, 0.5, 2) : rng.randn(sb), sb);
        await check1({ a, b }, (v) => op(v.a!, v.b!), refOp(A(a), A(b)), `${name} ${JSON.stringify([sa, sb])}`);
      }
      const x = f32(rng.awayFromZero([2, 3], 0.5, 2), [2, 3]);
      await check1({ x }, (v) => op(v.x!, 2.5), refOp(A(x), ref.scalar(2.5)), `${name}(x, 2.5)`);
      await check1({ x }, (v) => op(-1.5, v.x!), refOp(ref.scalar(-1.5), A(x)), `${name}(-1.5, x)`);
    });
  }
});

describe('unary ops', () => {
  const rng = new Rng(12);
  const any = f32(rng.randn([2, 3, 4], 2), [2, 3, 4]);
  const positive = f32(rng.rand([2, 3, 4], 0.1, 4), [2, 3, 4]);
  const nonzero = f32(rng.awayFromZero([2, 3, 4], 0.25, 3), [2, 3, 4]);
  const table: Array<[string, (x: Value) => Value, (v: number) => number, HostInput]> = [
    ['neg', ops.neg, (v) => -v, any],
    ['sqrt', ops.sqrt, Math.sqrt, positive],
    ['reciprocal', ops.reciprocal, (v) => 1 / v, nonzero],
    ['exp', ops.exp, Math.exp, any],
    ['sin', ops.sin, Math.sin, any],
    ['sigmoid', ops.sigmoid, (v) => 1 / (1 + Math.exp(-v)), any],
    ['identity', ops.identity, (v) => v, any],
    ['square', ops.square, (v) => v * v, any],
    ['rsqrt', ops.rsqrt, (v) => 1 / Math.sqrt(v), positive],
  ];
  for (const [name, op, f, x] of table) {
    it(name, async () => {
      covers(name);
      await check1({ x }, (v) => op(v.x!), ref.map(A(x), f), name);
    });
  }

  it('leakyRelu', async () => {
    covers('leakyRelu');
    for (const alpha of [0.2, 0.01]) {
      await check1({ x: any }, (v) => ops.leakyRelu(v.x!, alpha), ref.leakyRelu(A(any), alpha), `leakyRelu ${alpha}`);
    }
  });

  it('prelu: a slope per channel, broadcast', async () => {
    covers('prelu');
    const slope = f32(Float32Array.from([0.25, -0.5, 1.5]), [1, 3, 1]);
    const expected = ref.mapN([A(any), A(slope)], (v, a) => (v >= 0 ? v : a * v));
    await check1({ x: any }, (v, g) => ops.prelu(v.x!, g.constant(slope.data, slope.shape)), expected, 'prelu');
  });

  it('clip', async () => {
    covers('clip');
    await check1({ x: any }, (v) => ops.clip(v.x!, -0.5, 0.7), ref.clip(A(any), -0.5, 0.7), 'clip');
  });
});

describe('comparison, selection, casts', () => {
  it('greater: broadcast, number operand, bool output', async () => {
    covers('greater');
    const rng = new Rng(13);
    const a = f32(rng.randn([2, 3]), [2, 3]);
    const b = f32(rng.randn([3]), [3]);
    const out = await forward({ a, b }, (v) => ({ ab: ops.greater(v.a!, v.b!), a0: ops.greater(v.a!, 0) }));
    assert.ok(out.ab!.data instanceof Uint8Array);
    assertClose(out.ab!, ref.greater(A(a), A(b)), 'greater(a, b)');
    assertClose(out.a0!, ref.greater(A(a), ref.scalar(0)), 'greater(a, 0)');
  });

  it('equal: broadcast, number operand, bool output', async () => {
    covers('equal');
    const rng = new Rng(14);
    // Rounded to tenths so that some pairs are equal.
    const a = f32(rng.randn([2, 3]).map((v) => Math.round(v * 2) / 2), [2, 3]);
    const b = f32(Float32Array.of(0, 0.5, -0.5), [3]);
    const out = await forward({ a, b }, (v) => ({ ab: ops.equal(v.a!, v.b!), a0: ops.equal(v.a!, 0) }));
    assert.ok(out.ab!.data instanceof Uint8Array);
    assertClose(out.ab!, ref.equal(A(a), A(b)), 'equal(a, b)');
    assertClose(out.a0!, ref.equal(A(a), ref.scalar(0)), 'equal(a, 0)');
    assert.ok(ref.equal(A(a), A(b)).data.some((v) => v === 1), 'the inputs have equal pairs');
  });

  it('where: three-way broadcast and number branches', async () => {
    covers('where');
    const rng = new Rng(14);
    const cond: HostInput = { data: Uint8Array.from(rng.ints(8, 0, 2)), shape: [2, 1, 4] };
    const a = f32(rng.randn([3, 4]), [3, 4]);
    const b = f32(rng.randn([1]), [1]);
    const out = await forward({ cond, a, b }, (v) => ({
      ab: ops.where(v.cond!, v.a!, v.b!),
      nb: ops.where(v.cond!, 0.5, v.b!),
      an: ops.where(v.cond!, v.a!, -1),
      gt: ops.where(ops.greater(v.a!, 0), v.a!, ops.mul(v.a!, 0.1)),
    }));
    assertClose(out.ab!, ref.where(A(cond), A(a), A(b)), 'where(c, a, b)');
    assertClose(out.nb!, ref.where(A(cond), ref.scalar(0.5), A(b)), 'where(c, 0.5, b)');
    assertClose(out.an!, ref.where(A(cond), A(a), ref.scalar(-1)), 'where(c, a, -1)');
    assertClose(out.gt!, ref.leakyRelu(A(a), 0.1), 'where(a > 0, a, 0.1a)');
    const masks = await forward({ cond }, (v) => ops.where(v.cond!, 1, 0));
    assertClose(masks.y!, A(cond), 'where(c, 1, 0)');
  });

  it('cast: float → int64 truncates toward zero, float → bool, int64/bool → float', async () => {
    covers('cast');
    const x = f32(Float32Array.of(2.7, -2.7, 0, 0.25, -0, 5), [2, 3]);
    const i: HostInput = { data: BigInt64Array.of(-3n, 0n, 7n), shape: [3] };
    const b: HostInput = { data: Uint8Array.of(1, 0, 1), shape: [3] };
    const out = await forward({ x, i, b }, (v) => ({
      xi: ops.cast(v.x!, 'int64'),
      xb: ops.cast(v.x!, 'bool'),
      if: ops.cast(v.i!, 'float32'),
      bf: ops.cast(v.b!, 'float32'),
    }));
    assert.deepEqual(Array.from(out.xi!.data as BigInt64Array), [2n, -2n, 0n, 0n, 0n, 5n]);
    assert.deepEqual(Array.from(out.xb!.data as Uint8Array), [1, 1, 0, 1, 0, 1]);
    assert.deepEqual(Array.from(out.if!.data as Float32Array), [-3, 0, 7]);
    assert.deepEqual(Array.from(out.bf!.data as Float32Array), [1, 0, 1]);
  });
});

describe('matmul', () => {
  it('2-D and batched with broadcast batch dimensions', async () => {
    covers('matmul');
    const rng = new Rng(15);
    const cases: Array<[number[], number[]]> = [
      [[3, 4], [4, 5]],
      [[2, 3, 4], [4, 5]],
      [[3, 4], [2, 4, 5]],
      [[2, 1, 3, 4], [3, 4, 2]],
      [[1, 1], [1, 3]],
    ];
    for (const [sa, sb] of cases) {
      const a = f32(rng.randn(sa), sa);
      const b = f32(rng.randn(sb), sb);
      await check1({ a, b }, (v) => ops.matmul(v.a!, v.b!), ref.matmul(A(a), A(b)), `matmul ${JSON.stringify([sa, sb])}`);
    }
  });
});

describe('conv', () => {
  interface ConvCase {
    x: number[];
    w: number[];
    pads?: [number, number, number, number];
    group?: number;
    strides?: [number, number];
    what: string;
  }
  const cases: ConvCase[] = [
    { x: [1, 2, 5, 6], w: [3, 2, 3, 3], what: 'no padding' },
    { x: [2, 3, 5, 5], w: [4, 3, 3, 3], pads: [1, 1, 1, 1], what: 'same padding, batch 2' },
    { x: [1, 2, 4, 6], w: [3, 2, 3, 2], pads: [2, 0, 1, 1], what: 'asymmetric pads, non-square kernel' },
    { x: [1, 2, 3, 4], w: [2, 2, 1, 1], pads: [0, 3, 2, 0], what: '1x1 kernel with pads larger than the kernel' },
    { x: [1, 4, 5, 5], w: [6, 2, 3, 3], pads: [1, 0, 1, 2], group: 2, what: 'group 2' },
    { x: [2, 3, 5, 4], w: [3, 1, 3, 3], pads: [1, 1, 1, 1], group: 3, what: 'depthwise' },
    { x: [1, 3, 4, 5], w: [6, 1, 2, 3], pads: [0, 1, 1, 1], group: 3, what: 'depthwise, multiplier 2, non-square' },
    { x: [1, 1, 6, 6], w: [1, 1, 4, 4], pads: [2, 2, 1, 1], what: 'even kernel (blur-like)' },
    { x: [1, 2, 7, 8], w: [2, 1, 3, 3], pads: [1, 0, 0, 1], group: 2, strides: [2, 3], what: 'strides 2, 3 (depthwise, a remainder left over)' },
    { x: [2, 3, 9, 6], w: [4, 3, 1, 4], strides: [4, 1], what: 'stride along H only, 1-D kernel' },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      covers('conv');
      const rng = new Rng(16);
      const x = f32(rng.randn(c.x), c.x);
      const w = f32(rng.randn(c.w), c.w);
      const expected = ref.conv2d(A(x), A(w), c.pads, c.group, c.strides);
      const opts = { pads: c.pads, group: c.group, strides: c.strides };
      // Weights as initializers (the usual case) and as a graph input.
      await check1({ x }, (v, g) => ops.conv(v.x!, g.constant(w.data, c.w), opts), expected, `${c.what} (constant w)`);
      await check1({ x, w }, (v) => ops.conv(v.x!, v.w!, opts), expected, `${c.what} (input w)`);
    });
  }
});

describe('layout ops', () => {
  it('reshape: -1 inferred, no node when the shape is unchanged', async () => {
    covers('reshape');
    const rng = new Rng(17);
    const x = f32(rng.randn([2, 3, 4]), [2, 3, 4]);
    await check1({ x }, (v) => ops.reshape(v.x!, [4, -1]), { data: A(x).data, shape: [4, 6] }, 'reshape [4, -1]');
    await check1({ x }, (v) => ops.reshape(v.x!, [-1]), { data: A(x).data, shape: [24] }, 'reshape [-1]');
    const g = new Graph();
    const v = g.input('x', [2, 3]);
    assert.equal(ops.reshape(v, [2, -1]), v);
  });

  it('transpose', async () => {
    covers('transpose');
    const rng = new Rng(18);
    const x = f32(rng.randn([2, 3, 4]), [2, 3, 4]);
    await check1({ x }, (v) => ops.transpose(v.x!, [2, 0, 1]), ref.transpose(A(x), [2, 0, 1]), 'transpose [2, 0, 1]');
    const y = f32(rng.randn([2, 3, 4, 5]), [2, 3, 4, 5]);
    await check1({ y }, (v) => ops.transpose(v.y!, [0, 2, 3, 1]), ref.transpose(A(y), [0, 2, 3, 1]), 'NCHW → NHWC');
    // Rank 11: permutations are validated numerically, not in string order.
    const s11 = [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3];
    const p11 = [10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0];
    const z = f32(rng.randn(s11), s11);
    await check1({ z }, (v) => ops.transpose(v.z!, p11), ref.transpose(A(z), p11), 'rank 11');
  });

  it('expand: one-sided and bidirectional broadcast', async () => {
    covers('expand');
    const rng = new Rng(19);
    const x = f32(rng.randn([3, 1]), [3, 1]);
    await check1({ x }, (v) => ops.expand(v.x!, [2, 3, 4]), ref.expand(A(x), [2, 3, 4]), 'expand [3,1] → [2,3,4]');
    const y = f32(rng.randn([2, 1]), [2, 1]);
    await check1({ y }, (v) => ops.expand(v.y!, [1, 3]), ref.expand(A(y), [2, 3]), 'expand [2,1] by [1,3]');
  });

  it('concat: negative axis, several inputs, one input is a no-op', async () => {
    covers('concat');
    const rng = new Rng(20);
    const a = f32(rng.randn([2, 1, 3]), [2, 1, 3]);
    const b = f32(rng.randn([2, 4, 3]), [2, 4, 3]);
    const c = f32(rng.randn([2, 2, 3]), [2, 2, 3]);
    await check1({ a, b, c }, (v) => ops.concat([v.a!, v.b!, v.c!], -2), ref.concat([A(a), A(b), A(c)], 1), 'concat axis -2');
    await check1({ a, c }, (v) => ops.concat([v.c!, v.a!], 1), ref.concat([A(c), A(a)], 1), 'concat axis 1');
    await check1({ a, b }, (v) => ops.concat([v.a!, v.a!], 0), ref.concat([A(a), A(a)], 0), 'concat a value with itself');
    const g = new Graph();
    const v = g.input('x', [2, 3]);
    assert.equal(ops.concat([v], 0), v);
  });

  it('slice: negative axis, edges, full range is a no-op', async () => {
    covers('slice');
    const rng = new Rng(21);
    const x = f32(rng.randn([2, 3, 5]), [2, 3, 5]);
    await check1({ x }, (v) => ops.slice(v.x!, -1, 1, 3), ref.slice(A(x), 2, 1, 3), 'slice axis -1 [1, 3)');
    await check1({ x }, (v) => ops.slice(v.x!, 0, 1, 2), ref.slice(A(x), 0, 1, 2), 'slice axis 0 [1, 2)');
    await check1({ x }, (v) => ops.slice(v.x!, 1, 0, 1), ref.slice(A(x), 1, 0, 1), 'slice axis 1 [0, 1)');
    const g = new Graph();
    const v = g.input('x', [2, 3]);
    assert.equal(ops.slice(v, 1, 0, 3), v);
  });

  it('zeroInsert: sh−1 zero rows and sw−1 zero columns after each sample', async () => {
    covers('zeroInsert');
    const x = f32(Float32Array.from({ length: 12 }, (_, i) => i + 1), [1, 2, 2, 3]);
    const expected = (sh: number, sw: number) => {
      const out = new Float32Array(2 * 2 * sh * 3 * sw);
      for (let c = 0; c < 2; c++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) out[((c * 2 * sh + i * sh) * 3 * sw) + j * sw] = x.data[(c * 2 + i) * 3 + j]!;
      return ref.arr(out, [1, 2, 2 * sh, 3 * sw]);
    };
    await check1({ x }, (v) => ops.zeroInsert(v.x!, 2, 3), expected(2, 3), 'zeroInsert 2×3');
    await check1({ x }, (v) => ops.zeroInsert(v.x!, 1, 2), expected(1, 2), 'zeroInsert along W');
    await check1({ x }, (v) => ops.zeroInsert(v.x!, 3, 1), expected(3, 1), 'zeroInsert along H');
  });

  it('zeroAfter: a scalar zero read from its argument', async () => {
    covers('zeroAfter');
    const x = f32(Float32Array.of(3, -2, 5, 7), [2, 2]);
    const out = await forward({ x }, (v) => ops.zeroAfter(v.x!));
    assert.deepEqual(out.y!.shape, []);
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [0]);
  });

  it('pad: asymmetric zero padding on several axes', async () => {
    covers('pad');
    const rng = new Rng(22);
    const x = f32(rng.randn([1, 2, 3, 4]), [1, 2, 3, 4]);
    const pads = [0, 1, 2, 0, 1, 0, 0, 3];
    await check1({ x }, (v) => ops.pad(v.x!, pads), ref.pad(A(x), pads), 'pad 4-D');
    const y = f32(rng.randn([3]), [3]);
    await check1({ y }, (v) => ops.pad(v.y!, [2, 0]), ref.pad(A(y), [2, 0]), 'pad 1-D');
    const i: HostInput = { data: BigInt64Array.of(3n, -4n), shape: [2] };
    await check1({ i }, (v) => ops.pad(v.i!, [1, 2]), ref.arr([0, 3, -4, 0, 0], [5]), 'pad int64');
    const g = new Graph();
    const v = g.input('x', [2, 3]);
    assert.equal(ops.pad(v, [0, 0, 0, 0]), v);
  });

  it('depthToSpace: DCR order, on a literal example and against the reference', async () => {
    covers('depthToSpace');
    // 2 output channels, block 2: DCR reads input channel (i·2 + j)·2 + c for output (c, i, j).
    // (CRD order would give channel c·4 + i·2 + j, i.e. [[0, 1], [2, 3]] for c = 0.)
    const lit = f32(Float32Array.from({ length: 8 }, (_, i) => i), [1, 8, 1, 1]);
    const out = await forward({ lit }, (v) => ops.depthToSpace(v.lit!, 2));
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [0, 2, 4, 6, 1, 3, 5, 7]);
    const rng = new Rng(23);
    for (const [shape, b] of [[[2, 8, 2, 3], 2], [[1, 18, 2, 1], 3]] as Array<[number[], number]>) {
      const x = f32(rng.randn(shape), shape);
      await check1({ x }, (v) => ops.depthToSpace(v.x!, b), ref.depthToSpace(A(x), b), `depthToSpace ${shape} b=${b}`);
    }
  });

  it('interleave2x2: the depthToSpace of the four planes concatenated along channels', async () => {
    covers('interleave2x2');
    const rng = new Rng(25);
    const shape = [2, 3, 4, 5];
    const planes = [0, 1, 2, 3].map(() => f32(rng.randn(shape), shape));
    const feeds = Object.fromEntries(planes.map((p, i) => [`p${i}`, p]));
    const out = await forward(feeds, (v) => ops.interleave2x2([[v.p0!, v.p1!], [v.p2!, v.p3!]]));
    const expected = await forward(feeds, (v) => ops.depthToSpace(ops.concat([v.p0!, v.p1!, v.p2!, v.p3!], 1), 2));
    assert.deepEqual(out.y!.shape, [2, 3, 8, 10]);
    assert.deepEqual(Array.from(out.y!.data as Float32Array), Array.from(expected.y!.data as Float32Array));
    // Plane (0, 1) lands on even rows, odd columns.
    assert.equal((out.y!.data as Float32Array)[1], (planes[1]!.data as Float32Array)[0]);
  });

  it('spaceToDepth: the inverse of DCR depthToSpace', async () => {
    covers('spaceToDepth');
    const lit = f32(Float32Array.of(0, 2, 4, 6, 1, 3, 5, 7), [1, 2, 2, 2]);
    const out = await forward({ lit }, (v) => ops.spaceToDepth(v.lit!, 2));
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [0, 1, 2, 3, 4, 5, 6, 7]);
    const rng = new Rng(24);
    const x = f32(rng.randn([2, 3, 4, 6]), [2, 3, 4, 6]);
    await check1({ x }, (v) => ops.spaceToDepth(v.x!, 2), ref.spaceToDepth(A(x), 2), 'spaceToDepth');
    await check1({ x }, (v) => ops.depthToSpace(ops.spaceToDepth(v.x!, 2), 2), A(x), 'depthToSpace ∘ spaceToDepth');
  });

  it('gather: axis 0 and negative axis, 2-D and negative indices, constant or input indices', async () => {
    covers('gather');
    const rng = new Rng(25);
    const x = f32(rng.randn([4, 3]), [4, 3]);
    const idx = [2, -1, 0, 2];
    await check1(
      { x },
      (v, g) => ops.gather(v.x!, g.constant(BigInt64Array.from(idx, BigInt), [2, 2]), 0),
      ref.gather(A(x), idx, [2, 2], 0),
      'gather axis 0',
    );
    const i: HostInput = { data: BigInt64Array.of(1n, 0n, -3n), shape: [3] };
    await check1({ x, i }, (v) => ops.gather(v.x!, v.i!, -1), ref.gather(A(x), [1, 0, -3], [3], -1), 'gather axis -1');
    const s: HostInput = { data: BigInt64Array.of(3n), shape: [] };
    await check1({ x, s }, (v) => ops.gather(v.x!, v.s!, 0), ref.gather(A(x), [3], [], 0), 'gather scalar index');
  });
});

describe('resizeBilinearAlignCorners', () => {
  const cases: Array<[number[], number, number, string]> = [
    [[1, 2, 4, 4], 8, 8, 'upsampling ×2 (the FPN of e4e)'],
    [[2, 1, 3, 5], 7, 2, 'up along H, down along W, batch 2'],
    [[1, 3, 5, 4], 5, 1, 'one output column, H unchanged'],
  ];
  for (const [shape, h, w, what] of cases) {
    it(what, async () => {
      covers('resizeBilinearAlignCorners');
      const x = f32(new Rng(31).randn(shape), shape);
      await check1({ x }, (v) => ops.resizeBilinearAlignCorners(v.x!, h, w), ref.resizeBilinearAlignCorners(A(x), h, w), what);
    });
  }
});

describe('reductions and normalisations', () => {
  const rng = new Rng(26);
  const x = f32(rng.randn([2, 3, 4]), [2, 3, 4]);

  it('reduceSum: axes, negative axes, keepdims; empty axes is a no-op', async () => {
    covers('reduceSum');
    const cases: Array<[number[], boolean]> = [[[1], false], [[-1, 0], true], [[0, 1, 2], false], [[2], true]];
    for (const [axes, keep] of cases) {
      await check1({ x }, (v) => ops.reduceSum(v.x!, axes, keep), ref.reduce(A(x), axes, keep, 'sum'), `reduceSum ${axes} ${keep}`);
    }
    await check1({ x }, (v) => ops.reduceSum(v.x!, []), A(x), 'reduceSum []');
  });

  it('reduceMean: axes, negative axes, keepdims; empty axes is a no-op', async () => {
    covers('reduceMean');
    const cases: Array<[number[], boolean]> = [[[0, 2], false], [[-1], true], [[-2], false]];
    for (const [axes, keep] of cases) {
      await check1({ x }, (v) => ops.reduceMean(v.x!, axes, keep), ref.reduce(A(x), axes, keep, 'mean'), `reduceMean ${axes} ${keep}`);
    }
    await check1({ x }, (v) => ops.reduceMean(v.x!, [], true), A(x), 'reduceMean []');
  });

  it('sumAll: every element to a scalar, also of a scalar', async () => {
    covers('sumAll');
    await check1({ x }, (v) => ops.sumAll(v.x!), ref.reduce(A(x), [0, 1, 2], false, 'sum'), 'sumAll');
    const s = f32(Float32Array.of(1.5), []);
    await check1({ s }, (v) => ops.sumAll(v.s!), A(s), 'sumAll of a scalar');
  });

  it('softmax: axis 0, 1, -1, numerically stable for large logits', async () => {
    covers('softmax');
    const big = f32(x.data.map((v) => 40 * v), x.shape);
    for (const axis of [0, 1, -1]) {
      await check1({ x }, (v) => ops.softmax(v.x!, axis), ref.softmax(A(x), axis), `softmax axis ${axis}`);
      await check1({ big }, (v) => ops.softmax(v.big!, axis), ref.softmax(A(big), axis), `softmax axis ${axis}, large`);
    }
    await check1({ x }, (v) => ops.softmax(v.x!), ref.softmax(A(x), -1), 'softmax default axis');
  });

  it('layerNorm over the last axis with scale and bias', async () => {
    covers('layerNorm');
    const r = new Rng(27);
    const y = f32(r.randn([2, 3, 5], 3), [2, 3, 5]);
    const scale = r.randn([5]);
    const bias = r.randn([5]);
    for (const eps of [1e-5, 0.1]) {
      await check1(
        { y },
        (v, g) => ops.layerNorm(v.y!, g.constant(scale, [5]), g.constant(bias, [5]), eps),
        ref.layerNorm(A(y), ref.arr(scale, [5]), ref.arr(bias, [5]), eps),
        `layerNorm eps ${eps}`,
      );
    }
  });
});

describe('shape inference errors', () => {
  const g = new Graph();
  const x = g.input('x', [1, 3, 5, 5]);
  const m = g.input('m', [2, 3]);

  it('conv with mismatched channels or groups names both shapes', () => {
    assert.throws(() => ops.conv(x, g.input('w1', [4, 2, 3, 3])), /Conv: input \[1, 3, 5, 5\] does not fit weight \[4, 2, 3, 3\] with group 1/);
    assert.throws(() => ops.conv(x, g.input('w2', [4, 1, 3, 3]), { group: 3 }), /Conv: .*\[4, 1, 3, 3\] with group 3/);
    assert.throws(() => ops.conv(x, g.input('w3', [4, 3, 7, 3])), /Conv: kernel larger than padded input/);
    assert.throws(() => ops.conv(m, g.input('w4', [4, 3, 1, 1])), /Conv: x and w must be 4-D/);
  });

  it('elementwise ops with shapes that do not broadcast', () => {
    assert.throws(() => ops.add(m, g.input('b1', [4])), /Add: shapes \[2, 3\] and \[4\] do not broadcast/);
    assert.throws(() => ops.mul(m, g.input('b2', [3, 3])), /Mul: shapes \[2, 3\] and \[3, 3\] do not broadcast/);
    assert.throws(() => ops.where(ops.greater(m, 0), m, g.input('b3', [2])), /Where: shapes/);
    assert.throws(() => ops.expand(m, [4, 3]), /Expand: shapes \[2, 3\] and \[4, 3\]/);
  });

  it('reshape to a shape of another size', () => {
    assert.throws(() => ops.reshape(m, [4, -1]), /Reshape: cannot reshape \[2, 3\] to \[4, -1\]/);
    assert.throws(() => ops.reshape(m, [7]), /Reshape: cannot reshape \[2, 3\] to \[7\]/);
    assert.throws(() => ops.reshape(m, [-1, -1]), /Reshape: cannot reshape/);
  });

  it('matmul, transpose, axes, concat, slice, pad, depthToSpace, gather, layerNorm', () => {
    assert.throws(() => ops.matmul(m, g.input('k', [2, 3])), /MatMul: \[2, 3\] @ \[2, 3\]: inner dims differ/);
    assert.throws(() => ops.matmul(m, g.input('k1', [3])), /MatMul: operands must be at least 2-D/);
    assert.throws(() => ops.transpose(m, [0, 0]), /Transpose: bad permutation/);
    assert.throws(() => ops.transpose(m, [1, 0, 2]), /Transpose: bad permutation/);
    assert.throws(() => ops.reduceSum(m, [2]), /ReduceSum: axis 2 out of range for rank 2/);
    assert.throws(() => ops.reduceMean(m, [-3]), /ReduceMean: axis -3 out of range/);
    assert.throws(() => ops.softmax(m, 2), /Softmax: axis 2 out of range/);
    assert.throws(() => ops.concat([m, g.input('c', [3, 3])], 1), /Concat: \[3, 3\] does not fit \[2, 3\] on axis 1/);
    assert.throws(() => ops.slice(m, 1, 2, 4), /Slice: \[2, 4\) out of range for axis 1 of \[2, 3\]/);
    assert.throws(() => ops.slice(m, 1, 2, 2), /Slice: .*out of range/);
    assert.throws(() => ops.pad(m, [1, 1]), /Pad: need 4 non-negative pads/);
    assert.throws(() => ops.pad(m, [1, -1, 0, 0]), /Pad: need 4 non-negative pads/);
    assert.throws(() => ops.depthToSpace(x, 2), /DepthToSpace: 3 channels not divisible by 4/);
    assert.throws(() => ops.spaceToDepth(x, 2), /SpaceToDepth: 5x5 not divisible by 2/);
    assert.throws(() => ops.gather(m, m, 0), /Gather: indices must be int64/);
    assert.throws(() => ops.layerNorm(m, g.input('s', [2]), g.input('b', [3]), 1e-5), /LayerNormalization: scale\/bias must be \[3\]/);
  });

  it('values of another graph are refused', () => {
    const other = new Graph().input('z', [2, 3]);
    assert.throws(() => ops.add(m, other), /Add: an input belongs to another graph/);
  });
});

// ---- serialisation ----------------------------------------------------------------------------------

/** A minimal protobuf reader: the fields of one message (varints as bigint, length-delimited as bytes). */
function readMessage(buf: Uint8Array): Array<{ field: number; value: bigint | Uint8Array }> {
  const out: Array<{ field: number; value: bigint | Uint8Array }> = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ field, value: varint() });
    else if (wire === 2) {
      const n = Number(varint());
      out.push({ field, value: buf.subarray(at, at + n) });
      at += n;
    } else if (wire === 5) at += 4;
    else if (wire === 1) at += 8;
    else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

const fieldsOf = (msg: Uint8Array, field: number) =>
  readMessage(msg).filter((f) => f.field === field).map((f) => f.value as Uint8Array);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('toOnnx', () => {
  it('serialises only nodes and initializers reachable from the outputs', async () => {
    const g = new Graph();
    const x = g.input('x', [2, 3]);
    const w = g.constant(Float32Array.of(1, 2, 3), [3], 'w_used');
    ops.sigmoid(ops.matmul(x, g.constant(new Float32Array(3 * 4000), [3, 4000], 'w_unused'))); // dead branch
    const y = ops.add(x, w);
    ops.exp(y); // dead end hanging off a live value
    g.output('y', ops.neg(y));

    const bytes = toOnnx(g);
    assert.ok(bytes.length < 10000, `dead 40 kB initializer was serialised (${bytes.length} bytes)`);
    const [graph] = fieldsOf(bytes, 7);
    const opTypes = fieldsOf(graph!, 1).map((n) => text(fieldsOf(n, 4)[0]!));
    assert.deepEqual(opTypes, ['Add', 'Neg', 'Identity']);
    const inits = fieldsOf(graph!, 5).map((t) => text(fieldsOf(t, 8)[0]!));
    assert.deepEqual(inits, ['w_used']);
    // Every intermediate gets a value_info; graph inputs and outputs do not repeat there.
    const infos = fieldsOf(graph!, 13).map((v) => text(fieldsOf(v, 1)[0]!));
    assert.equal(infos.length, 2);
    const opset = readMessage(fieldsOf(bytes, 8)[0]!).find((f) => f.field === 2)!.value as bigint;
    assert.ok(opset >= 17n);

    const out = await forward({ x: f32(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]) }, (v, gg) =>
      ops.neg(ops.add(v.x!, gg.constant(Float32Array.of(1, 2, 3), [3]))),
    );
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [-2, -4, -6, -5, -7, -9]);
  });

  it('value names are unique: interface names are checked, constant names get a suffix', async () => {
    const g = new Graph();
    const x = g.input('x', [2]);
    assert.throws(() => g.input('x', [3]), /the name "x" is already used/);
    assert.throws(() => g.output('x', x), /the name "x" is already used/);
    // Two weights called "w" must stay two initializers (ONNX Runtime would silently use the last one).
    const a = g.constant(Float32Array.of(1, 2), [2], 'w');
    const b = g.constant(Float32Array.of(10, 20), [2], 'w');
    assert.notEqual(a.name, b.name);
    // A user name that looks like an automatic one does not collide with it either.
    const y = g.input(`v${g.nodes.length + 100}`, [2]);
    for (let i = 0; i < 120; i++) ops.identity(x);
    g.output('y', ops.add(ops.add(ops.mul(x, a), b), y));
    const s = await Session.fromGraph(g, { threads: 1 });
    const out = await s.run({ x: f32(Float32Array.of(1, 1), [2]), [y.name]: f32(Float32Array.of(0.5, 0.5), [2]) });
    await s.release();
    assert.deepEqual(Array.from(out.y!.data), [11.5, 22.5]);
  });

  it('an output can be a graph input, and one value can be output twice', async () => {
    const g = new Graph();
    const x = g.input('x', [2]);
    g.output('a', x);
    g.output('b', x);
    const s = await Session.fromGraph(g, { threads: 1 });
    const out = await s.run({ x: { data: Float32Array.of(3, 4), shape: [2] } });
    await s.release();
    assert.deepEqual(Array.from(out.a!.data), [3, 4]);
    assert.deepEqual(Array.from(out.b!.data), [3, 4]);
  });
});

describe('coverage', () => {
  it('every op builder exported by ops.ts has a forward test here', () => {
    const exported = Object.entries(ops).filter(([, v]) => typeof v === 'function').map(([k]) => k);
    const missing = exported.filter((k) => !covered.has(k));
    assert.deepEqual(missing, [], `op builders without a forward test: ${missing.join(', ')}`);
  });
});
