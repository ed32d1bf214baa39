/**
 * Preview grids during training: fixed latents, top row the original generator, bottom row the adapted
 * one, so successive previews show only what the domain vector changed.
 */
import type { Tensor } from '../core/tensor.js';
import { writeImageGrid } from '../io/image.js';
import type { Generator } from '../generators/generator.js';
import { zFromSeeds } from '../generators/latents.js';

export class PreviewWriter {
  private original: Tensor | undefined;
  private readonly z: Tensor;

  constructor(private readonly G: Generator, readonly count = 4) {
    this.z = zFromSeeds(Array.from({ length: count }, (_, i) => i), G.styleDim);
  }

  async write(path: string, domain: Float32Array): Promise<void> {
    this.original ??= await this.G.generate({ z: this.z, noise: 'const' });
    const adapted = await this.G.generate({ z: this.z, noise: 'const', domain });
    const both = new Float32Array(this.original.data.length * 2);
    both.set(this.original.data);
    both.set(adapted.data, this.original.data.length);
    await writeImageGrid(path, { data: both, shape: [2 * this.count, ...this.original.shape.slice(1)] }, { cols: this.count });
  }
}
