import type { Value } from '../../src/engine/graph.js';

/** The ids of v and of every value it is computed from: what ONNX Runtime must run before v. */
export function ancestors(v: Value): Set<number> {
  const seen = new Set<number>();
  const stack = [v];
  while (stack.length) {
    const u = stack.pop()!;
    if (seen.has(u.id)) continue;
    seen.add(u.id);
    stack.push(...(u.producer?.inputs ?? []));
  }
  return seen;
}
