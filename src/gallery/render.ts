/**
 * A gallery picture's image, the same wherever it is made (candidate, thumbnail, an owner's download):
 * z from its seed as NumPy's RandomState draws it, constant noise, the gallery's truncation and domain.
 */
import sharp from 'sharp';
import type { Tensor } from '../core/tensor.js';
import type { Generator } from '../generators/generator.js';
import { zFromSeeds } from '../generators/latents.js';
import { imageToRgb8 } from '../io/image.js';

export interface Rendering {
  truncation: number;
  domain?: Float32Array;
}

export function renderSeeds(G: Generator, seeds: readonly number[], r: Rendering): Promise<Tensor> {
  return G.generate({ z: zFromSeeds(seeds, G.styleDim), truncation: r.truncation, noise: 'const', domain: r.domain });
}

/** Image `index` of a batch as PNG bytes with side `size` (Lanczos when smaller than the image). */
export async function pngOfSize(images: Tensor, index: number, size: number): Promise<Buffer> {
  const [, , h, w] = images.shape as [number, number, number, number];
  const png = sharp(imageToRgb8(images, index), { raw: { width: w, height: h, channels: 3 } });
  return (size < w ? png.resize(size, size, { kernel: 'lanczos3' }) : png).png().toBuffer();
}
