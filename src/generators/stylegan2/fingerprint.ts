/**
 * A generator's identity for domain files: sha256 over its synthesis-relevant weights in a fixed order,
 * independent of the file format they came from (the same weights as `.pt` or `.pkl` agree).
 * Domain vectors are only meaningful on the exact weights they were trained on.
 */
import { createHash } from 'node:crypto';
import type { StyleGAN2 } from './architecture.js';

export function fingerprint(G: StyleGAN2): string {
  const h = createHash('sha256');
  const add = (a: Float32Array) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  add(Float32Array.from([G.size, G.styleDim, G.nLatent]));
  for (const d of G.mapping) add(d.weight.data), add(d.bias);
  add(G.constInput.data);
  for (const c of G.convs) add(c.affine.weight.data), add(c.affine.bias), add(c.weight.data), add(c.bias);
  for (const r of G.toRgbs) add(r.affine.weight.data), add(r.affine.bias), add(r.weight.data), add(r.bias);
  return h.digest('hex').slice(0, 16);
}
