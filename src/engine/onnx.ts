/**
 * Serialises a Graph to an ONNX ModelProto (IR 8, opset 17). Initializers are stored as raw little-endian
 * bytes; intermediate shapes are emitted as value_info so ONNX Runtime need not re-infer them.
 */
import type { AttrValue, DType, Graph, Node, Value } from './graph.js';
import { ProtoWriter } from './protobuf.js';

export const OPSET = 17;
const IR_VERSION = 8;
const ELEM_TYPE: Record<DType, number> = { float32: 1, int64: 7, bool: 9 };

function valueInfo(v: Value, name = v.name): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, new ProtoWriter().int(1, d));
  const tensorType = new ProtoWriter().int(1, ELEM_TYPE[v.dtype]).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

function attribute(name: string, value: AttrValue): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  if (typeof value === 'number') {
    a.int(20, 2).int(3, value);
  } else if (typeof value === 'string') {
    a.int(20, 3).string(4, value);
  } else if (Array.isArray(value)) {
    a.int(20, 7);
    for (const x of value) a.int(8, x);
  } else if ('float' in value) {
    a.int(20, 1).float(2, value.float);
  } else {
    a.int(20, 6);
    for (const x of value.floats) a.float(7, x);
  }
  return a;
}

function initializer(v: Value, data: Float32Array | BigInt64Array): ProtoWriter {
  const t = new ProtoWriter();
  for (const d of v.shape) t.int(1, d);
  t.int(2, ELEM_TYPE[v.dtype]).string(8, v.name);
  return t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** Nodes that the outputs depend on, in build (topological) order; builders may leave others behind. */
function liveNodes(graph: Graph): Node[] {
  const live = new Set<Node>();
  const stack = [...graph.outputs];
  while (stack.length) {
    const node = stack.pop()!.producer;
    if (node && !live.has(node)) {
      live.add(node);
      stack.push(...node.inputs);
    }
  }
  return graph.nodes.filter((n) => live.has(n));
}

export interface OnnxModelInfo {
  /** The model's doc_string. */
  doc?: string;
  /** ModelProto metadata_props: what ONNX Runtime reports as the model's custom metadata. */
  metadata?: Record<string, string>;
}

export function toOnnx(graph: Graph, info: OnnxModelInfo = {}): Uint8Array {
  const g = new ProtoWriter();
  const nodes = liveNodes(graph);
  const used = new Set(nodes.flatMap((n) => n.inputs.map((x) => x.id)));
  nodes.forEach((node, i) => {
    const n = new ProtoWriter();
    for (const x of node.inputs) n.string(1, x.name);
    for (const y of node.outputs) n.string(2, y.name);
    n.string(3, `${node.op}_${i}`).string(4, node.op);
    for (const [k, v] of Object.entries(node.attrs)) n.message(5, attribute(k, v));
    g.message(1, n);
  });
  g.string(2, graph.name);
  for (const { value, data } of graph.initializers.values()) {
    if (used.has(value.id)) g.message(5, initializer(value, data));
  }
  for (const v of graph.inputs) g.message(11, valueInfo(v));
  for (const v of graph.outputs) g.message(12, valueInfo(v));
  const outputs = new Set(graph.outputs.map((v) => v.id));
  for (const node of nodes) {
    for (const y of node.outputs) if (!outputs.has(y.id)) g.message(13, valueInfo(y));
  }
  const model = new ProtoWriter().int(1, IR_VERSION).string(2, 'ganvec');
  if (info.doc) model.string(6, info.doc);
  model.message(7, g).message(8, new ProtoWriter().string(1, '').int(2, OPSET));
  for (const [key, value] of Object.entries(info.metadata ?? {})) model.message(14, new ProtoWriter().string(1, key).string(2, value));
  return model.finish();
}
