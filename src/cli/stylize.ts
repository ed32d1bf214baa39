// `ganvec stylize`: a photo restyled with trained domains: align, invert (cached), generate in each domain.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  alignPhoto, generatorOptionsFor, loadGenerator, loadWeightedDomains, NoFaceError,
  ProjectionCache, projectionDigest, rgbToImageTensor, writeImageGrid,
  type Generator, type Tensor,
} from '../index.js';
import { ganvecHome } from '../registry/index.js';
import { domainArgs } from './domain-args.js';
import { modelOption, repeatable } from './options.js';
import { downloadProgress } from './progress.js';
import { addProjectionOptions, invert, type ProjectionFlags } from './projection-options.js';
import { UsageError } from './run.js';
import { checkVideoOutput } from './video-output.js';

interface StylizeFlags extends ProjectionFlags {
  model: string;
  domain: string[];
  out: string;
}

export function registerStylize(program: Command): void {
  const command = program
    .command('stylize')
    .description('Restyle the face in a photo with trained domains: align it, invert it into the generator, draw it in each domain, side by side.')
    .argument('<photo>', 'photo with a face (the largest is used)')
    .addOption(modelOption())
    .requiredOption('--domain <file[:weight]>', 'domain file (.dv.safetensors, a flat .npy or an https URL), optionally :weight; repeat for several panels', repeatable)
    .option('--out <file.png>', 'side-by-side image: aligned photo, reconstruction, then each domain', 'stylized.png');
  addProjectionOptions(command)
    .addHelpText('after', `
Steps: \`ganvec align\` (FFHQ's crop at the generator's size), \`ganvec project\` (projector.py's
optimisation with LPIPS-VGG16, or one pass of e4e with --encoder e4e), then the projected W drawn by the
generator with each domain vector.
The projection is cached in $GANVEC_HOME/projections under a digest of the photo's bytes, the generator's
weights, the LPIPS weights, --steps and --seed (or the --encoder): restyling the same photo with other
domains is quick. --save-video FILE (the optimisation as \`ganvec project\` draws it) runs the projection
even when it is cached, since the cache keeps only W.

Examples:
  ganvec stylize me.jpg --model ffhq --domain pixar.dv.safetensors --domain sketch.dv.safetensors --out me-styles.png
  ganvec stylize me.jpg --model ffhq --domain pixar.dv.safetensors:0.5 --steps 300 --out me-half-pixar.png
  ganvec stylize me.jpg --model ffhq --encoder e4e --domain pixar.dv.safetensors --out me-pixar.png`)
    .action(async (photo: string, flags: StylizeFlags) => runStylize(photo, flags));
}

async function runStylize(photo: string, flags: StylizeFlags): Promise<void> {
  if (flags.saveVideo) await checkVideoOutput('--save-video', flags.saveVideo);
  const bytes = await readFile(photo).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${photo}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const downloads = downloadProgress();
  const session = { threads: flags.threads, device: flags.device };
  const G = await loadGenerator(flags.model, { ...session, downloads });
  const extra: Generator[] = [];
  try {
    let aligned;
    try {
      [aligned] = await alignPhoto(bytes, { size: G.size });
    } catch (err) {
      if (err instanceof NoFaceError) throw new UsageError(`${photo}: no face found`);
      throw err;
    }
    const target = rgbToImageTensor(aligned!.image);

    const cache = new ProjectionCache(join(ganvecHome(), 'projections'));
    const digest = projectionDigest({
      photo: bytes,
      generatorFingerprint: G.source.fingerprint,
      settings: flags.encoder
        ? { encoder: flags.encoder, face: 0 }
        : { steps: flags.steps, seed: flags.seed, lpipsTrunk: flags.lpipsTrunk, lpipsLin: flags.lpipsLin, face: 0 },
    });
    let ws = flags.saveVideo ? undefined : await cache.get(digest, G.nLatent, G.styleDim);
    if (ws) {
      process.stderr.write(`stylize: using the cached projection ${cache.pathOf(digest)}\n`);
    } else {
      ws = (await invert(G, aligned!.image, target, flags, 'stylize: projecting', downloads)).ws;
      process.stderr.write(`stylize: projection cached as ${cache.put(digest, ws)}\n`);
    }

    const panels: Tensor[] = [target, await G.synthesize({ w: ws })];
    for (const spec of flags.domain) {
      const domain = await domainArgs([spec]);
      // A domain file says which parameterisation and layers it needs the generator loaded with.
      const needs = await generatorOptionsFor(domain.map((d) => d.path));
      let D = G;
      if (needs.parameterisation !== G.parameterisation.name || needs.layers !== 'all') {
        D = await loadGenerator(flags.model, { ...session, ...needs, downloads });
        extra.push(D);
      }
      panels.push(await D.synthesize({ w: ws, domain: await loadWeightedDomains(domain, D) }));
    }
    const plane = 3 * G.size * G.size;
    const all = new Float32Array(panels.length * plane);
    panels.forEach((p, i) => all.set(p.data, i * plane));
    await writeImageGrid(flags.out, { data: all, shape: [panels.length, 3, G.size, G.size] }, { cols: panels.length });
    process.stdout.write(`wrote ${flags.out}: photo (aligned), reconstruction, ${flags.domain.join(', ')} (${G.size}×${G.size} each)\n`);
  } finally {
    for (const D of extra) await D.release();
    await G.release();
  }
}
