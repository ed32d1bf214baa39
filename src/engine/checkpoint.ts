/**
 * Gradient checkpointing across sessions. A segment's output was computed by another session, which kept
 * nothing else of the segment, and comes in as `stored`; the backward pass builds the segment again from
 * `inputs` and differentiates that copy. Memory then holds one segment's activations at a time.
 *
 * Recomputing inside one session does not save memory in ONNX Runtime: its planner hands a freed forward
 * buffer to a later value of the same size, often a cotangent of the backward pass, and keeps the buffer
 * allocated in between. The copy reads its inputs through a zero of the cotangent (ops.ts zeroAfter) so
 * that ONNX Runtime's order cannot run it before the backward pass reaches it.
 *
 * ONNX Runtime orders nodes by a depth-first walk back from the outputs, so a small gradient that is only
 * summed at the very end (a layer's style, into the vector's gradient) is computed there, and the large values
 * it reads (the copy's input and a cotangent of that size) stay allocated through every later segment: 0.7 of
 * 4.2 GB for the StyleGAN3-T 512 px step. The largest gradient, the one the previous segment waits for, reads a
 * zero of the others, so that they are computed within the segment.
 */
import { grad } from './grad.js';
import type { Value } from './graph.js';
import { add, identity, zeroAfter } from './ops.js';
import { numel } from '../core/tensor.js';

export function checkpoint(inputs: readonly Value[], stored: Value, build: (inputs: readonly Value[]) => Value): Value {
  return stored.graph.composite([...inputs, stored], () => identity(stored), (gy, needs) => {
    const zero = zeroAfter(gy);
    const waiting = inputs.map((x) => (x.dtype === 'float32' ? add(x, zero) : x));
    const copy = build(waiting);
    if (copy.shape.join() !== stored.shape.join()) throw new Error(`checkpoint: the segment makes [${copy.shape}], stored is [${stored.shape}]`);
    const grads = tied(grad(copy, waiting.filter((_, k) => needs[k]), gy));
    let next = 0;
    return inputs.map((_, k) => (needs[k] ? grads[next++] : undefined));
  });
}

/** The gradients, the largest one made to wait for all the others. */
function tied(grads: Value[]): Value[] {
  if (grads.length < 2) return grads;
  const largest = grads.reduce((best, g, k) => (numel(g.shape) > numel(grads[best]!.shape) ? k : best), 0);
  const zero = grads.filter((_, k) => k !== largest).map(zeroAfter).reduce((a, b) => add(a, b));
  return grads.map((g, k) => (k === largest ? add(g, zero) : g));
}
