/**
 * Preview grids during training: fixed latents (seeds 0, 1, …), top row the original generator, bottom
 * row the adapted one, labelled, so successive previews show only what the domain vector changed.
 */
import type { Tensor } from '../core/tensor.js';
import { writeImageGrid } from '../io/image-grid.js';
import type { Generator } from '../generators/generator.js';
import { zFromSeeds } from '../generators/latents.js';

export class PreviewWriter {
  private original: Tensor | undefined;
  private readonly z: Tensor;
  private readonly seeds: number[];

  constructor(private readonly G: Generator, readonly count = 4) {
    this.seeds = Array.from({ length: count }, (_, i) => i);
    this.z = zFromSeeds(this.seeds, G.styleDim);
  }

  async write(path: string, domain: Float32Array): Promise<void> {
    this.original ??= await this.G.generate({ z: this.z, noise: 'const' });
    const adapted = await this.G.generate({ z: this.z, noise: 'const', domain });
    const both = new Float32Array(this.original.data.length * 2);
    both.set(this.original.data);
    both.set(adapted.data, this.original.data.length);
    const labels = [...this.seeds, ...this.seeds].map((seed) => `seed ${seed}`);
    await writeImageGrid(path, { data: both, shape: [2 * this.count, ...this.original.shape.slice(1)] }, {
      cols: this.count, labels, rowLabels: ['original', 'adapted'],
    });
  }
}
