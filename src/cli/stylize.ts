// `ganvec stylize`: a photo restyled with trained domains: align, invert (cached), generate in each domain.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  alignPhoto, generatorOptionsFor, loadDomainVector, loadGenerator, loadLpips, NoFaceError, project, PROJECT_DEFAULTS,
  ProjectionCache, projectionDigest, rgbToImageTensor, writeImageGrid,
  type Device, type Generator, type ProjectStep, type Tensor,
} from '../index.js';
import { ganvecHome } from '../registry/index.js';
import { deviceOption, integerIn, repeatable } from './options.js';
import { downloadProgress, duration } from './progress.js';
import { UsageError } from './run.js';

interface StylizeFlags {
  model: string;
  domain: string[];
  out: string;
  steps: number;
  seed: number;
  lpipsTrunk: string;
  lpipsLin: string;
  threads?: number;
  device: Device;
}

export function registerStylize(program: Command): void {
  program
    .command('stylize')
    .description('Restyle the face in a photo with trained domains: align it, invert it into the generator, draw it in each domain, side by side.')
    .argument('<photo>', 'photo with a face (the largest is used)')
    .requiredOption('--model <name|file>', 'the generator the domains were trained on (e.g. ffhq); --network works too')
    .requiredOption('--domain <file>', 'domain file (.dv.safetensors or a flat .npy); repeat for several', repeatable)
    .option('--out <file.png>', 'side-by-side image: aligned photo, reconstruction, then each domain', 'stylized.png')
    .option('--steps <n>', 'projection steps (projector.py\'s 1000)', integerIn({ min: 1 }), PROJECT_DEFAULTS.steps)
    .option('--seed <n>', 'projection seed', integerIn({ min: 0, max: 2 ** 32 - 1 }), 303)
    .option('--lpips-trunk <name|file>', 'VGG16 trunk of the LPIPS distance', 'vgg16-imagenet')
    .option('--lpips-lin <name|file>', 'LPIPS v0.1 lin layers', 'lpips-vgg-v0.1')
    .option('--threads <n>', 'CPU threads (default: all cores)', integerIn({ min: 1 }))
    .addOption(deviceOption())
    .addHelpText('after', `
Steps: \`ganvec align\` (FFHQ's crop at the generator's size), \`ganvec project\` (projector.py's
optimisation with LPIPS-VGG16), then the projected W drawn by the generator with each domain vector.
The projection is cached in $GANVEC_HOME/projections under a digest of the photo's bytes, the generator's
weights, the LPIPS weights, --steps and --seed: restyling the same photo with other domains is quick.

Examples:
  $ ganvec stylize me.jpg --model ffhq --domain pixar.dv.safetensors --domain sketch.dv.safetensors --out me-styles.png`)
    .action(async (photo: string, flags: StylizeFlags) => runStylize(photo, flags));
}

async function runStylize(photo: string, flags: StylizeFlags): Promise<void> {
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
      settings: { steps: flags.steps, seed: flags.seed, lpipsTrunk: flags.lpipsTrunk, lpipsLin: flags.lpipsLin, face: 0 },
    });
    let ws = await cache.get(digest, G.nLatent, G.styleDim);
    if (ws) {
      process.stderr.write(`stylize: using the cached projection ${cache.pathOf(digest)}\n`);
    } else {
      const lpips = await loadLpips({ trunk: flags.lpipsTrunk, lin: flags.lpipsLin, downloads });
      downloads.end();
      const started = performance.now();
      const report = (s: ProjectStep) => {
        const eta = duration(((performance.now() - started) / 1000 / s.step) * (s.steps - s.step));
        const line = `stylize: projecting, step ${s.step}/${s.steps}  dist ${s.dist.toFixed(4)}  ETA ${eta}`;
        if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K${s.step === s.steps ? '\n' : ''}`);
        else if (s.step % 100 === 0 || s.step === s.steps) process.stderr.write(`${line}\n`);
      };
      ws = (await project(G, target, lpips, { steps: flags.steps, seed: flags.seed, onStep: report, session })).ws;
      process.stderr.write(`stylize: projection cached as ${cache.put(digest, ws)}\n`);
    }

    const panels: Tensor[] = [target, await G.synthesize({ w: ws })];
    for (const file of flags.domain) {
      // A domain file says which parameterisation and layers it needs the generator loaded with.
      const needs = await generatorOptionsFor([file]);
      let D = G;
      if (needs.parameterisation !== G.parameterisation.name || needs.layers !== 'all') {
        D = await loadGenerator(flags.model, { ...session, ...needs, downloads });
        extra.push(D);
      }
      panels.push(await D.synthesize({ w: ws, domain: await loadDomainVector(file, D) }));
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
