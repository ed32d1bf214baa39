/**
 * A StyleGAN3 generator's identity for domain files: sha256 over its weights, buffers and filters in a
 * fixed order. The user transform is a generation setting (translate/rotate), so it is left out: a
 * domain trained on a generator applies to it whatever the transform.
 */
import { createHash } from 'node:crypto';
import type { StyleGAN3 } from './architecture.js';

export function fingerprint(G: StyleGAN3): string {
  const h = createHash('sha256');
  const add = (a: Float32Array) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  add(Float32Array.from([G.size, G.zDim, G.wDim, G.nLatent, G.outputScale, G.convClamp ?? -1]));
  for (const d of G.mapping) add(d.weight.data), add(d.bias);
  const i = G.input;
  add(i.affine.weight.data), add(i.affine.bias), add(i.weight.data), add(i.freqs.data), add(i.phases);
  for (const l of G.layers) {
    add(l.affine.weight.data), add(l.affine.bias), add(l.weight.data), add(l.bias), add(Float32Array.of(l.magnitudeEma));
    if (l.upFilter) add(l.upFilter.data);
    if (l.downFilter) add(l.downFilter.data);
  }
  return `sg3-${h.digest('hex').slice(0, 12)}`;
}
