/**
 * A Progressive GAN's identity for domain files: sha256 over its weights in synthesis order. The generation
 * settings (output scale, fade-in) are not part of it: a domain vector applies at any scale.
 */
import { createHash } from 'node:crypto';
import type { ProgressiveGAN } from './architecture.js';

export function fingerprint(G: ProgressiveGAN): string {
  const h = createHash('sha256');
  const add = (a: Float32Array) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  add(Float32Array.from([G.zDim, G.scales.length, G.leakyReluLeak, G.alpha, G.tanh ? 1 : 0]));
  add(G.formatLayer.weight.data), add(G.formatLayer.bias);
  for (const s of G.scales) {
    for (const c of s.convs) add(c.weight.data), add(c.bias);
    add(s.toRgb.weight.data), add(s.toRgb.bias);
  }
  return h.digest('hex').slice(0, 16);
}
