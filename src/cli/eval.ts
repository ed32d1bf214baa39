// `ganvec eval`: CLIP quality and diversity of an adapted generator, as HyperDomainNet reports them.
import type { Command } from 'commander';
import { readImageSet } from '../io/image-folder.js';
import { loadDomainVector } from '../io/domain-file.js';
import type { Device } from '../engine/session.js';
import { loadClip } from '../models/clip/clip.js';
import { loadGenerator } from '../models/stylegan2/load.js';
import { evaluateDomain, QUALITY_TEMPLATE, type EvaluationTarget } from '../train/evaluate.js';
import { deviceOption, integerIn } from './options.js';
import { UsageError } from './run.js';

interface EvalFlags {
  device: Device;
  model: string;
  domain?: string;
  clip: string;
  to?: string;
  images?: string[];
  n: number;
  batch: number;
  seed: number;
  json?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('Score a domain vector: CLIP quality (similarity to the target) and diversity of the adapted generator\'s samples.')
    .requiredOption('--model <generator>', 'generator: a registered name (e.g. ffhq) or a checkpoint file')
    .option('--domain <file>', 'domain file (.dv.safetensors or a flat .npy); omitted = the original generator')
    .requiredOption('--clip <model>', 'CLIP model: a registered name (e.g. ViT-B/32) or a checkpoint file')
    .option('--to <text>', `the target text (encoded as "${QUALITY_TEMPLATE}")`)
    .option('--images <paths...>', 'instead of --to: example images, a folder or image files')
    .option('--n <count>', 'samples to generate', integerIn({ min: 2 }), 500)
    .option('--batch <n>', 'images per ONNX Runtime run', integerIn({ min: 1 }), 8)
    .option('--seed <n>', 'first seed; sample i uses seed + i', integerIn({ min: 0, max: 2 ** 32 - 1 }), 0)
    .option('--json', 'print {quality, diversity, n, ...} as JSON')
    .addOption(deviceOption())
    .addHelpText('after', `
Quality   = mean cosine between the samples' CLIP embeddings and the target (every example image with
            --images: the mean over images × samples).
Diversity = mean over pairs of samples of (1 − cosine).
Samples use truncation 1, constant noise and no style mixing, so they are the images of
\`ganvec generate --seeds <seed>-<seed+n-1>\`.

Examples:
  ganvec eval --model ffhq --domain pixar.dv.safetensors --clip ViT-B/32 --to "pixar"
  ganvec eval --model ffhq --domain ten-photos.dv.safetensors --clip ViT-B/16 --images ./ten-photos --n 200 --json`)
    .action(async (flags: EvalFlags) => runEval(flags));
}

async function runEval(flags: EvalFlags): Promise<void> {
  if ((flags.to === undefined) === (flags.images === undefined)) throw new UsageError('give the target as --to "text" or --images <folder or files>');
  if (flags.to !== undefined && !flags.to.trim()) throw new UsageError('--to needs a non-empty text');
  const target: EvaluationTarget = flags.to !== undefined ? { text: flags.to.trim() } : { images: await readImageSet(flags.images!) };
  if ('images' in target) for (const s of target.images.skipped) process.stderr.write(`skipped ${s.name}: ${s.reason}\n`);

  const G = await loadGenerator(flags.model, { batch: flags.batch, device: flags.device });
  const clip = await loadClip(flags.clip, { batch: flags.batch, device: flags.device });
  try {
    const domain = flags.domain === undefined ? undefined : await loadDomainVector(flags.domain, G);
    const result = await evaluateDomain(G, clip, { target, domain, n: flags.n, seed: flags.seed });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...result, seed: flags.seed, clip: clip.name, target: flags.to ?? flags.images })}\n`);
    } else {
      process.stdout.write(`quality   ${result.quality.toFixed(4)}\ndiversity ${result.diversity.toFixed(4)}\nn         ${result.n}\n`);
    }
  } finally {
    await Promise.all([G.release(), clip.release()]);
  }
}
