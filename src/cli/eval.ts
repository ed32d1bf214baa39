// `ganvec eval`: CLIP quality and diversity of an adapted generator, as HyperDomainNet reports them.
import { Option, type Command } from 'commander';
import { basename } from 'node:path';
import {
  A_TEMPLATE, domainVectorProblem, evaluateDomain, generatorOptionsFor, IMAGENET_TEMPLATES, loadClip, loadGenerator, loadWeightedDomains, readImageSet,
  type Clip, type Device, type EvaluationTarget,
} from '../index.js';
import { domainArgs } from './domain-args.js';
import { clipOption, DEFAULT_CLIP_MODELS, deviceOption, integerIn, modelOption, threadsOption } from './options.js';
import { downloadProgress } from './progress.js';
import { UsageError, warnLine } from './run.js';

interface EvalFlags {
  device: Device;
  threads?: number;
  model: string;
  domain?: string;
  clip: string[];
  to?: string;
  images?: string[];
  template: 'imagenet' | 'a';
  n: number;
  batch: number;
  seed: number;
  json?: boolean;
}

const TEMPLATES = {
  imagenet: { templates: IMAGENET_TEMPLATES, says: 'the 79 ImageNet templates (HyperDomainNet\'s Evaluator)' },
  a: { templates: A_TEMPLATE, says: '"A {}" (StyleDomain)' },
} as const;

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('Score a domain vector: CLIP quality (similarity to the target) and diversity of the adapted generator\'s samples.')
    .addOption(modelOption())
    .option('--domain <file>', 'domain file (.dv.safetensors, a flat .npy or an https URL), optionally :weight; omitted = the original generator')
    .addOption(clipOption(DEFAULT_CLIP_MODELS))
    .option('--to <text>', 'the target text')
    .addOption(new Option('--template <set>', 'how --to is put into words: imagenet (the 79 ImageNet templates, mean of the per-template cosines, as HyperDomainNet\'s Evaluator) or a ("A {}", as StyleDomain)')
      .choices(Object.keys(TEMPLATES)).default('imagenet'))
    .option('--images <paths...>', 'instead of --to: example images, a folder or image files')
    .option('--n <count>', 'samples to generate', integerIn({ min: 2 }), 500)
    .option('--batch <n>', 'images per ONNX Runtime run', integerIn({ min: 1 }), 8)
    .option('--seed <n>', 'first seed; sample i uses seed + i', integerIn({ min: 0, max: 2 ** 32 - 1 }), 0)
    .option('--json', 'print the scores as one JSON object')
    .addOption(threadsOption())
    .addOption(deviceOption())
    .addHelpText('after', `
Quality   = mean cosine between the samples' CLIP embeddings and the target: each template's text
            embedding (mean over samples × templates), or every example image with --images.
Diversity = mean over pairs of samples of (1 − cosine).
Samples use truncation 1, constant noise and no style mixing, so they are the images of
\`ganvec generate --seeds <seed>-<seed+n-1>\`. Each CLIP model is scored on the same samples.

Examples:
  ganvec eval --model ffhq --domain pixar.dv.safetensors --to "3D Render in the Style of Pixar"
  ganvec eval --model ffhq --domain pixar.dv.safetensors --clip ViT-B/16 --to "pixar" --template a
  ganvec eval --model ffhq --domain ten-photos.dv.safetensors --images ./ten-photos --n 200 --json`)
    .action(async (flags: EvalFlags) => runEval(flags));
}

async function runEval(flags: EvalFlags): Promise<void> {
  if ((flags.to === undefined) === (flags.images === undefined)) throw new UsageError('give the target as --to "text" or --images <folder or files>');
  if (flags.to !== undefined && !flags.to.trim()) throw new UsageError('--to needs a non-empty text');
  const templates = TEMPLATES[flags.template];
  const target: EvaluationTarget = flags.to !== undefined
    ? { text: flags.to.trim(), templates: templates.templates }
    : { images: await readImageSet(flags.images!) };
  if ('images' in target) for (const s of target.images.skipped) warnLine(`skipped ${s.name}: ${s.reason}`);
  const targetSays = 'images' in target
    ? `${target.images.images.length} example images (digest ${target.images.digest.slice(0, 12)})`
    : `"${target.text}" through ${templates.says}`;

  // A domain file says which parameterisation and layers the generator must be loaded with.
  const domains = await domainArgs(flags.domain === undefined ? [] : [flags.domain]);
  const forDomain = await generatorOptionsFor(domains.map((d) => d.path));
  const G = await loadGenerator(flags.model, { batch: flags.batch, threads: flags.threads, device: flags.device, downloads: downloadProgress(), ...forDomain });
  const clips: Clip[] = [];
  try {
    for (const name of flags.clip) clips.push(await loadClip(name, { batch: flags.batch, threads: flags.threads, device: flags.device, downloads: downloadProgress() }));
    const domain = domains.length === 0 ? undefined : await loadWeightedDomains(domains, G);
    const problem = domain && domainVectorProblem(domain, G);
    if (problem) throw new UsageError(`--domain ${flags.domain}: the weighted domain vector ${problem}`);
    const tty = process.stderr.isTTY && !flags.json;
    const results = await evaluateDomain(G, clips, {
      target, domain, n: flags.n, seed: flags.seed,
      onProgress: tty ? (done, total) => process.stderr.write(`\rsampled ${done}/${total}\x1b[K${done === total ? '\n' : ''}`) : undefined,
    });
    const about = {
      model: G.source.path, domain: flags.domain ?? null, target: flags.to?.trim() ?? flags.images,
      templates: 'images' in target ? null : flags.template, n: flags.n, seed: flags.seed,
    };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...about, scores: results.map(({ clip, quality, diversity }) => ({ clip, quality, diversity })) })}\n`);
      return;
    }
    const width = Math.max(4, ...results.map((r) => r.clip.length));
    process.stdout.write([
      `model      ${basename(G.source.path)}`,
      `domain     ${flags.domain === undefined ? 'none (the original generator)' : basename(flags.domain)}`,
      `target     ${targetSays}`,
      `samples    ${flags.n}, seeds ${flags.seed}-${flags.seed + flags.n - 1}`,
      `${'clip'.padEnd(width)}  quality  diversity`,
      ...results.map((r) => `${r.clip.padEnd(width)}  ${r.quality.toFixed(4).padStart(7)}  ${r.diversity.toFixed(4).padStart(9)}`),
    ].join('\n') + '\n');
  } finally {
    await Promise.all([G.release(), ...clips.map((c) => c.release())]);
  }
}
