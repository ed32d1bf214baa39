// `ganvec video`: an interpolation video (gen_video.py's latent walk) or a walk into a domain, as MP4, GIF or WebP.
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  domainWalk, generatorOptionsFor, latentWalk, loadGenerator, loadWeightedDomains, renderVideo, VIDEO_FORMATS,
  type Device, type VideoPlan,
} from '../index.js';
import { domainArgs } from './domain-args.js';
import { domainFor, familySettingOptions, settingValues } from './generate.js';
import { deviceOption, integerIn, modelOption, numberIn, numberListIn, repeatable, seedList, threadsOption } from './options.js';
import { downloadProgress } from './progress.js';
import { UsageError } from './run.js';
import { checkVideoOutput, frameProgress } from './video-output.js';

const WALKS = ['latent', 'domain'] as const;
type Walk = (typeof WALKS)[number];
const DEFAULT_SEEDS = '0-3';

const HELP = `
Walks:
  latent            gen_video.py's: each grid cell runs through its keyframe seeds (cell i takes seeds
                    i·K … i·K + K − 1 of --seeds, K = --num-keyframes or seeds / cells) along the cubic
                    spline scipy's interp1d(kind='cubic') draws through the keyframes repeated on both
                    sides, --w-frames frames per keyframe; the video loops. --domain applies a domain to
                    every frame (repeat it and use --domain-strength to mix, as in generate).
  domain            each cell holds one seed while the domain moves over --frames frames: with one
                    --domain from the original generator (strength 0) to the domain (1), with two from
                    the first domain to the second.

Output: the format follows --out's extension: .mp4 (H.264, 12 Mbit/s as gen_video.py), .gif (looping,
one palette for the whole video) or .webp (looping, lossy). Frames are streamed to ffmpeg as they are made,
so only one is in memory; ffmpeg must be installed (Debian/Ubuntu: apt-get install ffmpeg) or named by
GANVEC_FFMPEG. The file appears when it is complete.

Examples:
  ganvec video --model stylegan3-r-afhqv2-512x512 --seeds 0-31 --grid 4x2 --out lerp.mp4
  ganvec video --model ffhq --seeds 0-7 --w-frames 60 --truncation 0.7 --out walk.gif
  ganvec video --model ffhq --walk domain --domain pixar.dv.safetensors --seeds 0-3 --grid 2x2 --out into-pixar.mp4
  ganvec video --model ffhq --walk domain --domain pixar.dv.safetensors --domain sketch.dv.safetensors --out pixar-to-sketch.webp`;

interface VideoFlags {
  model: string;
  seeds?: number[];
  grid: [number, number];
  numKeyframes?: number;
  wFrames: number;
  truncation?: number;
  walk: Walk;
  frames: number;
  domain?: string[];
  domainStrength?: number[];
  fps: number;
  out: string;
  batch?: number;
  threads?: number;
  device: Device;
}

/** `4x2` or `4,2`: columns × rows, as gen_video.py's --grid. */
function gridSize(text: string): [number, number] {
  const m = /^(\d+)[x,](\d+)$/.exec(text.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidArgumentError(`expected columns x rows such as 2x2, got "${text}".`);
  return [Number(m[1]), Number(m[2])];
}

export function registerVideo(program: Command): void {
  const command = program
    .command('video')
    .description('render a looping latent-walk video (gen_video.py) or a walk into a domain, as MP4, GIF or WebP')
    .addOption(modelOption())
    .requiredOption('--out <file>', `the video file: .${VIDEO_FORMATS.join(', .')}`)
    .option('--seeds <list>', `seeds such as 0-31 (default: ${DEFAULT_SEEDS})`, seedList)
    .addOption(new Option('--grid <WxH>', 'grid of cells, columns x rows').argParser(gridSize).default([1, 1], '1x1'))
    .option('--num-keyframes <n>', 'latent walk: keyframes per cell (default: seeds / cells)', integerIn({ min: 1 }))
    .option('--w-frames <n>', 'latent walk: frames from one keyframe to the next', integerIn({ min: 1 }), 120)
    .addOption(new Option('--truncation <psi>', 'truncation ψ toward the mean W; or --trunc').argParser(numberIn()).default(undefined, '1, no truncation'))
    .addOption(new Option('--walk <kind>', 'what moves: the latents or the domain').choices(WALKS).default('latent'))
    .option('--frames <n>', 'domain walk: frames from start to end', integerIn({ min: 2 }), 120)
    .option('--domain <file[:weight]>', 'domain vector: .dv.safetensors, flat .npy or https URL, optionally :weight (repeatable)', repeatable)
    .option('--domain-strength <s[,s...]>', 'latent walk: weight of each domain (default: 1)', numberListIn())
    .option('--fps <n>', 'frames per second', integerIn({ min: 1, max: 240 }), 60)
    .option('--batch <n>', 'images per run of the network (default: the grid\'s cells)', integerIn({ min: 1 }))
    .addOption(threadsOption())
    .addOption(deviceOption())
    .addHelpText('after', HELP);
  const settings = familySettingOptions();
  for (const option of settings) command.addOption(option);
  command.action(async (flags: VideoFlags) => video(flags, settingValues(settings, flags)));
}

function check(f: VideoFlags): void {
  const domains = f.domain?.length ?? 0;
  if (f.walk === 'domain') {
    if (domains < 1 || domains > 2) throw new UsageError(`--walk domain needs one --domain (original → domain) or two (first → second), got ${domains}`);
    if (f.domainStrength) throw new UsageError('--domain-strength does not apply to --walk domain: the walk sets the strength, 0 to 1');
    if (f.numKeyframes !== undefined) throw new UsageError('--num-keyframes applies to --walk latent');
  }
  if (f.domainStrength && domains === 0) throw new UsageError('--domain-strength needs --domain');
  if (f.domainStrength && f.domainStrength.length !== 1 && f.domainStrength.length !== domains) {
    throw new UsageError(`--domain-strength has ${f.domainStrength.length} values for ${domains} --domain files: give one, or one per domain`);
  }
}

async function video(f: VideoFlags, settings: Record<string, string>): Promise<void> {
  check(f);
  await checkVideoOutput('--out', f.out);
  const [cols, rows] = f.grid;
  const seeds = f.seeds ?? seedList(DEFAULT_SEEDS);
  const domains = await domainArgs(f.domain ?? []);
  const forDomains = await generatorOptionsFor(domains.map((d) => d.path));
  const G = await loadGenerator(f.model, { batch: f.batch ?? cols * rows, threads: f.threads, device: f.device, ...forDomains, settings, downloads: downloadProgress() });
  try {
    let plan: VideoPlan;
    try {
      if (f.walk === 'domain') {
        const [first, second] = await Promise.all(domains.map((d) => loadWeightedDomains([d], G)));
        plan = await domainWalk(G, { seeds, cols, rows, frames: f.frames, truncation: f.truncation, from: second ? first : undefined, to: second ?? first! });
      } else {
        const domain = await domainFor(G, domains, f.domainStrength);
        plan = await latentWalk(G, { seeds, cols, rows, keyframes: f.numKeyframes, wFrames: f.wFrames, truncation: f.truncation, domain });
      }
    } catch (err) {
      if (err instanceof RangeError) throw new UsageError(err.message);
      throw err;
    }
    const { width, height, frames } = await renderVideo(G, plan, f.out, { fps: f.fps, onProgress: frameProgress('video') });
    process.stdout.write(`wrote ${f.out}: ${frames} frames of ${width}×${height} at ${f.fps} fps (${(frames / f.fps).toFixed(1)} s)\n`);
  } finally {
    await G.release();
  }
}
