/**
 * Seeds, truncation and style mixing with the library API, as examples/notebooks/quickstart.ipynb:
 *
 *   npx tsx examples/quickstart.ts --model ffhq --outdir out/
 *
 * writes out/truncation.png (seeds 0–7 at ψ 1, 0.7, 0.4) and out/mixing.png (seeds 0–3, then their coarse
 * rows with seed 10's fine rows).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadGenerator, writeImageGrid, zFromSeeds, type Tensor } from 'ganvec';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'ffhq' }, outdir: { type: 'string', default: 'out' } } });
const G = await loadGenerator(values.model!, { batch: 4 });
await mkdir(values.outdir!, { recursive: true });

/** Image batches [n, 3, H, W] one after the other as one batch. */
const stack = (parts: Tensor[]): Tensor => ({
  data: Float32Array.from(parts.flatMap((p) => [...p.data])),
  shape: [parts.reduce((n, p) => n + p.shape[0]!, 0), ...parts[0]!.shape.slice(1)],
});

const seeds = [0, 1, 2, 3, 4, 5, 6, 7];
const psis = [1, 0.7, 0.4];
const z = zFromSeeds(seeds, G.styleDim);
const rows = [];
for (const truncation of psis) rows.push(await G.generate({ z, truncation }));
await writeImageGrid(join(values.outdir!, 'truncation.png'), stack(rows), {
  cols: seeds.length, labels: psis.flatMap(() => seeds.map(String)), rowLabels: psis.map((p) => `psi ${p}`),
});

// W+ rows [0, crossover) from seeds 0–3 (pose, shape), the rest from seed 10 (colours, texture).
const coarse = zFromSeeds([0, 1, 2, 3], G.styleDim);
const crossover = Math.min(4, G.nLatent - 1);
const mixed = await G.generate({ z: coarse, mixZ: zFromSeeds([10, 10, 10, 10], G.styleDim), mixIndex: crossover, truncation: 0.7 });
await writeImageGrid(join(values.outdir!, 'mixing.png'), stack([await G.generate({ z: coarse, truncation: 0.7 }), mixed]), {
  cols: 4, rowLabels: ['seeds 0-3', `+ seed 10 from row ${crossover}`],
});
console.log(`wrote ${values.outdir}/truncation.png and mixing.png`);
await G.release();
