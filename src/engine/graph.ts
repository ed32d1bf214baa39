/**
 * The graph IR: values with static shapes, nodes `{op, inputs, outputs, attrs}`, named initializers,
 * and graph inputs/outputs. Op builders (ops.ts) append nodes and infer shapes as they go; grad.ts
 * appends the backward pass to the same graph; onnx.ts serialises it.
 *
 * Every shape is static: a graph is built for one batch size. Builders are cheap, sessions are cached.
 */
import { numel, shapeString } from '../core/tensor.js';

export type DType = 'float32' | 'int64' | 'bool';

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

export interface Value {
  readonly graph: Graph;
  readonly id: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The node that computes this value; undefined for graph inputs and initializers. */
  readonly producer?: Node;
}

export interface Node {
  readonly op: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

/**
 * A piece of graph that grad() differentiates as a whole, with its own rule: an op made of ops whose gradient
 * has a cheaper form than the per-op rules would build (StyleGAN3's FIR passes: the adjoint of inserting zeros
 * and filtering is one strided filter pass, where the rules would filter at the full rate and then slice).
 */
export interface Composite {
  readonly inputs: readonly Value[];
  readonly output: Value;
  readonly nodes: ReadonlySet<Node>;
  /** The inputs' cotangents from the output's; undefined where `needs` is false. */
  readonly vjp: (gy: Value, needs: readonly boolean[]) => Array<Value | undefined>;
}

export interface Initializer {
  readonly value: Value;
  readonly data: Float32Array | BigInt64Array;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers = new Map<number, Initializer>();
  /** Each node built inside a composite, to its composite. */
  readonly composites = new Map<Node, Composite>();
  private nextId = 0;
  private readonly scalarCache = new Map<number, Value>();
  /** Every value name in use: ONNX needs them unique (a repeated initializer name silently aliases). */
  private readonly names = new Set<string>();
  /** Weights used by several subgraphs (the frozen and the adapted generator) are stored once. */
  private readonly constantCache = new WeakMap<Float32Array | BigInt64Array, Value>();

  constructor(readonly name = 'ganvec') {}

  input(name: string, shape: readonly number[], dtype: DType = 'float32'): Value {
    const v = this.newValue(shape, dtype, undefined, name, true);
    this.inputs.push(v);
    return v;
  }

  /** A frozen tensor stored in the model file (weights, filters, index tables). */
  constant(data: Float32Array | BigInt64Array, shape: readonly number[], name?: string): Value {
    if (data.length !== numel(shape)) {
      throw new Error(`constant ${name ?? ''}: ${data.length} values do not fill shape ${shapeString(shape)}`);
    }
    const cached = this.constantCache.get(data);
    if (cached && cached.shape.length === shape.length && cached.shape.every((d, i) => d === shape[i])) return cached;
    const dtype: DType = data instanceof BigInt64Array ? 'int64' : 'float32';
    const v = this.newValue(shape, dtype, undefined, name);
    this.initializers.set(v.id, { value: v, data });
    this.constantCache.set(data, v);
    return v;
  }

  /** A float32 scalar constant, shared by every use of the same number. */
  scalar(x: number): Value {
    let v = this.scalarCache.get(x);
    if (!v) {
      v = this.constant(Float32Array.of(x), []);
      this.scalarCache.set(x, v);
    }
    return v;
  }

  ints(values: readonly number[]): Value {
    return this.constant(BigInt64Array.from(values, (x) => BigInt(x)), [values.length]);
  }

  /** Marks `v` as a graph output called `name` (an Identity keeps graph inputs and repeats legal). */
  output(name: string, v: Value): Value {
    const out = this.addNode('Identity', [v], {}, [{ shape: v.shape, dtype: v.dtype, name }])[0]!;
    this.outputs.push(out);
    return out;
  }

  /**
   * The value `build()` makes from `inputs` (and constants), differentiated by `vjp` instead of through the
   * nodes it builds, which must read nothing else.
   */
  composite(inputs: readonly Value[], build: () => Value, vjp: Composite['vjp']): Value {
    const first = this.nodes.length;
    const output = build();
    const nodes = new Set(this.nodes.slice(first));
    const inside = new Set([...inputs, ...[...nodes].flatMap((n) => n.outputs)].map((v) => v.id));
    for (const n of nodes) {
      if (n.inputs.some((v) => !inside.has(v.id) && !this.initializers.has(v.id))) {
        throw new Error(`composite: its ${n.op} node reads a value that is neither one of its inputs nor a constant`);
      }
    }
    const c: Composite = { inputs, output, nodes, vjp };
    for (const n of nodes) this.composites.set(n, c);
    return output;
  }

  addNode(
    op: string,
    inputs: readonly Value[],
    attrs: Record<string, AttrValue>,
    outputs: ReadonlyArray<{ shape: readonly number[]; dtype: DType; name?: string }>,
  ): Value[] {
    for (const x of inputs) {
      if (x.graph !== this) throw new Error(`${op}: an input belongs to another graph`);
    }
    const outs: Value[] = [];
    const node: Node = { op, inputs, outputs: outs, attrs };
    for (const o of outputs) outs.push(this.newValue(o.shape, o.dtype, node, o.name, o.name !== undefined));
    this.nodes.push(node);
    return outs;
  }

  /**
   * `exact`: the name is part of the session interface (graph inputs, named node outputs) and must be
   * free; otherwise (constants, unnamed values) a taken name gets a numeric suffix.
   */
  private newValue(shape: readonly number[], dtype: DType, producer: Node | undefined, name?: string, exact = false): Value {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape ${shapeString(shape)}`);
    }
    const id = this.nextId++;
    let unique = name ?? `v${id}`;
    if (this.names.has(unique)) {
      if (exact) throw new Error(`graph ${this.name}: the name "${unique}" is already used by another value`);
      const base = unique;
      for (let k = 1; this.names.has(unique); k++) unique = `${base}_${k}`;
    }
    this.names.add(unique);
    return { graph: this, id, name: unique, shape: [...shape], dtype, producer };
  }
}
