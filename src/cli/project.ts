// `ganvec project`: find the W whose image looks like a given (aligned) photo, as NVIDIA's projector.py.
import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadGenerator, readRgb, rgbToImageTensor, squareTarget, writeImagePng, writeNpy, writeProjectedW } from '../index.js';
import { downloadProgress } from './progress.js';
import { modelOption } from './options.js';
import { addProjectionOptions, invert, type ProjectionFlags } from './projection-options.js';
import { UsageError } from './run.js';
import { checkVideoOutput } from './video-output.js';

interface ProjectFlags extends ProjectionFlags {
  model: string;
  outdir: string;
}

export function registerProject(program: Command): void {
  const command = program
    .command('project')
    .description('Invert an image into the generator: optimise W (and the noise maps) until the image matches, as NVIDIA\'s projector.py, or encode it with e4e in one pass.')
    .argument('<image>', 'target image, ideally aligned with `ganvec align` (centre-cropped and resized to the generator\'s size)')
    .addOption(modelOption())
    .option('--outdir <dir>', 'where to write projected_w.npz, projected_w.npy, proj.png and target.png', './projection');
  addProjectionOptions(command)
    .addHelpText('after', `
The optimisation is projector.py's: start at w_avg (10,000 mapped samples of RandomState(123)), Adam on
one W (repeated over every W+ row) and the noise maps, learning rate 0.1 ramped up over the first 5% of
the steps and down over the last 25%, W perturbed by noise fading over the first 75%, the noise maps'
autocorrelation penalised (weight 1e5) and re-normalised each step. The distance is LPIPS-VGG16 v0.1 as
richzhang/PerceptualSimilarity defines it (projector.py uses NVIDIA's TorchScript port of it); images
above 256 px are area-downsampled to 256 first, as there.

--encoder e4e instead runs encoder4editing's FFHQ encoder (pSp with the IR-SE50 Encoder4Editing; downloaded
on first use, over 1 GB) once: the image resized to 256 px as its training did, W+ out in seconds, a
reconstruction rougher than the optimisation's but made for editing. It fits the FFHQ 1024 generator
(ffhq, W+ [18, 512]); another generator is refused. A local e4e checkpoint file works too.

Outputs in --outdir: projected_w.npz (key "w", [1, n_latent, dim], as projector.py writes it; generate
--w reads it), the same W+ as projected_w.npy, proj.png (the projected W with the generator's own noise
maps, what \`generate --w\` draws) and target.png. --save-video FILE writes projector.py's proj.mp4: a
frame per step, the target beside the step's W drawn with the final optimised noise maps, 10 fps, H.264 at
16 Mbit/s (or .gif / .webp); drawing the frames costs one synthesis per step after the optimisation.

Examples:
  ganvec align me.jpg --out me-aligned.png
  ganvec project me-aligned.png --model ffhq --outdir me --save-video me/proj.mp4
  ganvec project me-aligned.png --model ffhq --encoder e4e --outdir me-e4e
  ganvec generate --model ffhq --w me/projected_w.npz --domain pixar.dv.safetensors --out me-pixar.png`)
    .action(async (image: string, flags: ProjectFlags) => runProject(image, flags));
}

async function runProject(image: string, flags: ProjectFlags): Promise<void> {
  if (flags.saveVideo) await checkVideoOutput('--save-video', flags.saveVideo);
  const downloads = downloadProgress();
  const G = await loadGenerator(flags.model, { threads: flags.threads, device: flags.device, downloads });
  try {
    let photo;
    try {
      photo = await readRgb(image);
    } catch (err) {
      throw new UsageError(`${image}: not an image that can be read (${(err as Error).message})`);
    }
    const target = rgbToImageTensor(squareTarget(photo, G.size));
    try {
      await mkdir(flags.outdir, { recursive: true });
    } catch (err) {
      throw new UsageError(`--outdir ${flags.outdir}: cannot create the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const { ws, how } = await invert(G, photo, target, flags, 'project', downloads);
    writeProjectedW(join(flags.outdir, 'projected_w.npz'), ws);
    await writeNpy(join(flags.outdir, 'projected_w.npy'), ws);
    await writeImagePng(join(flags.outdir, 'proj.png'), await G.synthesize({ w: ws }), 0);
    await writeImagePng(join(flags.outdir, 'target.png'), target, 0);
    process.stdout.write(`wrote ${flags.outdir}/projected_w.npz and projected_w.npy (W+ [1, ${G.nLatent}, ${G.styleDim}]), proj.png, target.png; ${how}\n`);
  } finally {
    await G.release();
  }
}
