/**
 * Few-shot adaptation, mixing and a strength sweep with the library API, as
 * examples/notebooks/few-images-and-mixing.ipynb:
 *
 *   npx tsx examples/few-images-and-mixing.ts --model ffhq --clip ViT-B/32 --images my-style/ --to "a pencil sketch" --outdir out/
 *
 * adapts one domain toward the pictures in --images and one toward --to, mixes them half and half into
 * out/mix.dv.safetensors (its parents recorded), and writes out/domains.png (original, each domain, the
 * mix) and out/strength.png (the image domain at strengths 0 to 1.5).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  adapt, loadClip, loadDomainVector, loadGenerator, mixDomainFiles, writeDomainFile, writeImageGrid, zFromSeeds, type Tensor,
} from 'ganvec';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'ffhq' },
    clip: { type: 'string', default: 'ViT-B/32' },
    images: { type: 'string' },
    to: { type: 'string', default: 'a pencil sketch' },
    iters: { type: 'string', default: '300' },
    outdir: { type: 'string', default: 'out' },
  },
});
if (!values.images) throw new Error('--images: a folder of example pictures (about ten, one style)');
const outdir = values.outdir!;
await mkdir(outdir, { recursive: true });
const G = await loadGenerator(values.model!, { batch: 4 });
const clip = await loadClip(values.clip!);
const progress = (what: string) => ({ step, iterations, loss }: { step: number; iterations: number; loss: number }) => {
  if (step % 50 === 0 || step === iterations) console.log(`${what}: step ${step}/${iterations}  loss ${loss.toFixed(4)}`);
};

const fromImages = join(outdir, 'images.dv.safetensors');
await adapt(G, { images: [values.images], clips: [clip], iterations: Number(values.iters), out: fromImages, overwrite: true, onStep: progress('images') });
const fromText = join(outdir, 'text.dv.safetensors');
await adapt(G, { text: { target: values.to! }, clips: [clip], iterations: Number(values.iters), out: fromText, overwrite: true, onStep: progress('text') });
const mix = join(outdir, 'mix.dv.safetensors');
await writeDomainFile(mix, await mixDomainFiles([{ path: fromImages, weight: 0.5 }, { path: fromText, weight: 0.5 }]));

const stack = (parts: Tensor[]): Tensor => ({
  data: Float32Array.from(parts.flatMap((p) => [...p.data])),
  shape: [parts.reduce((n, p) => n + p.shape[0]!, 0), ...parts[0]!.shape.slice(1)],
});
const z = zFromSeeds([0, 1, 2, 3], G.styleDim);
const rows = [];
for (const file of [undefined, fromImages, fromText, mix]) rows.push(await G.generate({ z, truncation: 0.7, domain: file === undefined ? undefined : await loadDomainVector(file, G) }));
await writeImageGrid(join(outdir, 'domains.png'), stack(rows), { cols: 4, rowLabels: ['original', 'images', 'text', 'mix'] });

const strengths = [0, 0.25, 0.5, 0.75, 1, 1.5];
const vector = await loadDomainVector(fromImages, G);
const sweep = [];
for (const s of strengths) sweep.push(await G.generate({ z: zFromSeeds([0], G.styleDim), truncation: 0.7, domain: vector.map((v) => s * v) }));
await writeImageGrid(join(outdir, 'strength.png'), stack(sweep), { cols: strengths.length, labels: strengths.map((s) => `x${s}`) });
console.log(`wrote ${outdir}/domains.png, strength.png and mix.dv.safetensors`);
await Promise.all([G.release(), clip.release()]);
