/**
 * Adapt a generator to a text prompt and save before/after grids, with the library API.
 *
 *   npx tsx examples/adapt-and-generate.ts --model ffhq --clip ViT-B/32 --to "pixar" --iters 300 --outdir out/
 *
 * Every model argument is a registry name (downloaded on first use) or a local checkpoint file.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { adapt, loadClip, loadGenerator, writeImageGrid, zFromSeeds } from 'ganvec';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'ffhq' },
    clip: { type: 'string', default: 'ViT-B/32' },
    to: { type: 'string', default: 'pixar' },
    iters: { type: 'string', default: '300' },
    batch: { type: 'string', default: '4' },
    outdir: { type: 'string', default: 'out' },
  },
});

const G = await loadGenerator(values.model!, { batch: 4 });
const clip = await loadClip(values.clip!);
await mkdir(values.outdir!, { recursive: true });

const run = await adapt(G, {
  text: { target: values.to! },
  clips: [clip],
  iterations: Number(values.iters),
  batch: Number(values.batch),
  // The domain file, with what it was trained on and how; saved every 25 steps and at the end.
  out: join(values.outdir!, 'domain.dv.safetensors'),
  overwrite: true,
  onStep: ({ step, iterations, loss }) => {
    if (step % 10 === 0 || step === iterations) console.log(`step ${step}/${iterations}  loss ${loss.toFixed(4)}`);
  },
});

const z = zFromSeeds([0, 1, 2, 3], G.styleDim);
await writeImageGrid(join(values.outdir!, 'before.png'), await G.generate({ z, truncation: 0.7 }), { cols: 4 });
await writeImageGrid(join(values.outdir!, 'after.png'), await G.generate({ z, truncation: 0.7, domain: run.vector }), { cols: 4 });
console.log(`wrote ${values.outdir}/before.png, after.png and domain.dv.safetensors (${run.stopped})`);
await Promise.all([G.release(), clip.release()]);
