/**
 * A real photo restyled with the library API, as examples/notebooks/restyle-a-photo.ipynb:
 *
 *   npx tsx examples/restyle-a-photo.ts --photo me.jpg --model ffhq --to pixar --to sketch --outdir out/
 *
 * aligns the largest face as FFHQ was made, projects it (NVIDIA's projector.py with LPIPS-VGG16, --steps),
 * trains a domain toward each --to prompt (--iters), and writes out/restyled.png (the aligned photo, its
 * reconstruction, then the same W in each domain), out/projected_w.npz (for `ganvec generate --w`) and
 * out/domain-<i>.dv.safetensors. `ganvec stylize` does the same with domain files trained before.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  adapt, alignPhoto, loadClip, loadGenerator, loadLpips, project, rgbToImageTensor, writeImageGrid, writeProjectedW, type Tensor,
} from 'ganvec';

const { values } = parseArgs({
  options: {
    photo: { type: 'string' },
    model: { type: 'string', default: 'ffhq' },
    clip: { type: 'string', default: 'ViT-B/32' },
    'lpips-trunk': { type: 'string', default: 'vgg16-imagenet' },
    'lpips-lin': { type: 'string', default: 'lpips-vgg-v0.1' },
    to: { type: 'string', multiple: true, default: ['pixar', 'sketch'] },
    steps: { type: 'string', default: '1000' },
    iters: { type: 'string', default: '300' },
    outdir: { type: 'string', default: 'out' },
  },
});
if (!values.photo) throw new Error('--photo: a photo with a face');
const outdir = values.outdir!;
await mkdir(outdir, { recursive: true });
const G = await loadGenerator(values.model!);
const lpips = await loadLpips({ trunk: values['lpips-trunk'], lin: values['lpips-lin'] });
const clip = await loadClip(values.clip!);

const [face] = await alignPhoto(values.photo, { size: G.size });
const aligned = rgbToImageTensor(face!.image);
const projection = await project(G, aligned, lpips, {
  steps: Number(values.steps),
  onStep: ({ step, steps, dist }) => {
    if (step % 100 === 0 || step === steps) console.log(`projection: step ${step}/${steps}  LPIPS ${dist.toFixed(4)}`);
  },
});
writeProjectedW(join(outdir, 'projected_w.npz'), projection.ws);

const panels: Tensor[] = [aligned, await G.synthesize({ w: projection.ws })];
for (const [i, target] of values.to!.entries()) {
  const run = await adapt(G, {
    text: { target, source: 'photo' }, clips: [clip], iterations: Number(values.iters), out: join(outdir, `domain-${i}.dv.safetensors`), overwrite: true,
    onStep: ({ step, iterations, loss }) => {
      if (step % 50 === 0 || step === iterations) console.log(`${target}: step ${step}/${iterations}  loss ${loss.toFixed(4)}`);
    },
  });
  panels.push(await G.synthesize({ w: projection.ws, domain: run.vector }));
}
const strip = { data: Float32Array.from(panels.flatMap((p) => [...p.data])), shape: [panels.length, 3, G.size, G.size] };
await writeImageGrid(join(outdir, 'restyled.png'), strip, { cols: panels.length, labels: ['photo', 'reconstruction', ...values.to!] });
console.log(`wrote ${outdir}/restyled.png, projected_w.npz and ${values.to!.length} domain files`);
await Promise.all([G.release(), clip.release()]);
