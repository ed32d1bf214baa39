/**
 * Reverse-mode differentiation over the graph IR. `grad` appends the backward pass to the same graph:
 * for every node on a path from `wrt` to `loss` (in reverse build order) it calls that op's VJP rule
 * (vjp.ts) and sums the cotangents that reach each value. Frozen weights are constants and never get one.
 * A composite (Graph.composite) is differentiated once, by its own rule, when the walk reaches its last node.
 */
import type { Composite, Node, Value } from './graph.js';
import { add } from './ops.js';
import { vjpRules } from './vjp.js';

/** Values that depend on any of `roots`; a composite's output depends on all its inputs, whatever its nodes read. */
function dependents(roots: readonly Value[]): Set<number> {
  const graph = roots[0]!.graph;
  const live = new Set(roots.map((v) => v.id));
  for (const node of graph.nodes) {
    const reads = graph.composites.get(node)?.inputs ?? node.inputs;
    if (reads.some((x) => live.has(x.id))) for (const y of node.outputs) live.add(y.id);
  }
  return live;
}

/**
 * d(sum(loss · seed))/d(wrt) for each value in `wrt`. `seed` defaults to 1 (then `loss` must be a scalar).
 * A value that `loss` does not depend on gets a zero gradient.
 */
export function grad(loss: Value, wrt: readonly Value[], seed?: Value): Value[] {
  const graph = loss.graph;
  if (!seed && loss.shape.length !== 0) throw new Error('grad: a non-scalar loss needs a seed cotangent');
  const onPath = dependents(wrt);
  const cotangent = new Map<number, Value>([[loss.id, seed ?? graph.scalar(1)]]);
  const needed = (inputs: readonly Value[]) => inputs.map((x) => onPath.has(x.id) && x.dtype === 'float32');
  const accumulate = (inputs: readonly Value[], needs: readonly boolean[], gxs: ReadonlyArray<Value | undefined>) => {
    inputs.forEach((x, k) => {
      const gx = gxs[k];
      if (!needs[k] || !gx) return;
      const prev = cotangent.get(x.id);
      cotangent.set(x.id, prev ? add(prev, gx) : gx);
    });
  };
  const differentiated = new Set<Composite>();
  const nodes = [...graph.nodes];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node: Node = nodes[i]!;
    const composite = graph.composites.get(node);
    if (composite) {
      if (differentiated.has(composite)) continue;
      differentiated.add(composite);
      for (const n of composite.nodes) {
        if (n.outputs.some((y) => y !== composite.output && cotangent.has(y.id))) {
          throw new Error(`grad: a value inside a composite (from its ${n.op} node) is used outside it`);
        }
      }
      const gy = cotangent.get(composite.output.id);
      const needs = needed(composite.inputs);
      if (gy && needs.some(Boolean)) accumulate(composite.inputs, needs, composite.vjp(gy, needs));
      continue;
    }
    const gys = node.outputs.map((y) => cotangent.get(y.id));
    if (gys.every((g) => g === undefined)) continue;
    const needs = needed(node.inputs);
    if (!needs.some(Boolean)) continue;
    const rule = vjpRules[node.op];
    if (!rule) throw new Error(`grad: no VJP rule for op ${node.op} (on the path from the inputs to the loss)`);
    accumulate(node.inputs, needs, rule(node, gys, needs));
  }
  return wrt.map((x) => cotangent.get(x.id) ?? zerosLike(x));
}

function zerosLike(x: Value): Value {
  return x.graph.constant(new Float32Array(x.shape.reduce((a, b) => a * b, 1)), x.shape);
}
