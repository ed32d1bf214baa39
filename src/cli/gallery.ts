// `ganvec gallery build|serve`: generated pictures sorted into themed rooms by CLIP, and a small web app where each picture gets one owner.
import type { Command } from 'commander';
import {
  buildGallery, GALLERY_DEFAULTS, generatorOptionsFor, loadClip, loadDomainVector, loadGenerator, readRooms,
  type Device,
} from '../index.js';
import { deviceOption, integerIn, numberIn } from './options.js';
import { countProgress, downloadProgress } from './progress.js';
import { UsageError } from './run.js';

interface BuildFlags {
  model: string;
  domain?: string;
  rooms: string;
  candidates: number;
  perRoom: number;
  out: string;
  clip: string;
  firstSeed: number;
  truncation: number;
  minScore: number;
  margin: number;
  maxSimilarity: number;
  thumbnailSize: number;
  batch: number;
  threads?: number;
  device: Device;
}

const BUILD_HELP = `
How pictures are chosen:
  1. Candidate i is the image of seed --first-seed + i (z = numpy.random.RandomState(seed).randn(1, dim),
     as \`ganvec generate --seeds\`), with --truncation, constant noise and --domain; CLIP embeds it.
     Embeddings are saved in chunks under <out>/candidates/, so an interrupted build resumes where it
     stopped (run the same command again; other settings are refused).
  2. Each query of the rooms file is put into its templates (default: the 79 ImageNet templates) and
     scored against every candidate by cosine.
  3. A candidate goes to the room of its best query when that score is at least --min-score and beats
     every other room's best by --margin (ties are left out); it is named after that query.
  4. Each room keeps its best --per-room pictures, skipping any whose CLIP cosine to one already chosen
     exceeds --max-similarity.
  5. Thumbnails go to <out>/thumbnails/, and <out>/manifest.json records each picture's seed, room, query
     and score, the generator's fingerprint and the domain file's sha256. The manifest holds the seeds:
     \`ganvec gallery serve\` never shows it.

Rooms file (see examples/gallery/rooms.json):
  { "templates": ["a painting of {}."], "rooms": [{ "name": "People", "queries": ["beauty", "master"] }, …] }

Examples:
  $ ganvec gallery build --model ffhq --rooms examples/gallery/rooms.json --candidates 20000 --per-room 1000 --out gallery/
  $ ganvec gallery build --model ffhq --domain pixar.dv.safetensors --rooms rooms.json --candidates 2000 --per-room 100`;

export function registerGallery(program: Command): void {
  const gallery = program.command('gallery').description('a gallery of generated pictures in themed rooms chosen by CLIP, each picture with one owner');
  gallery
    .command('build')
    .description('sample candidates, sort them into rooms by CLIP text queries, write thumbnails and a manifest')
    .requiredOption('--model <name|file>', 'registered generator name or checkpoint file; --network or --from work too')
    .option('--domain <file>', 'domain file (.dv.safetensors or flat .npy) the pictures are generated in')
    .requiredOption('--rooms <file.json>', 'rooms and their queries (and optionally templates)')
    .option('--candidates <n>', 'candidates to sample', integerIn({ min: 1, max: 10_000_000 }), 20000)
    .option('--per-room <n>', 'most pictures per room', integerIn({ min: 1 }), 1000)
    .option('--out <dir>', 'gallery folder', './gallery')
    .option('--clip <model>', 'CLIP model: a registered name or a checkpoint file', 'ViT-B/32')
    .option('--first-seed <n>', 'seed of candidate 0; candidate i uses first-seed + i', integerIn({ min: 0, max: 2 ** 32 - 1 }), GALLERY_DEFAULTS.firstSeed)
    .option('--truncation <psi>', 'truncation ψ toward the mean W; or --trunc', numberIn(), GALLERY_DEFAULTS.truncation)
    .option('--min-score <cos>', 'lowest cosine to the best query', numberIn({ min: -1, max: 1 }), GALLERY_DEFAULTS.minScore)
    .option('--margin <cos>', 'how far the best query must beat every other room', numberIn({ min: 0, max: 2 }), GALLERY_DEFAULTS.margin)
    .option('--max-similarity <cos>', 'skip a picture this close (CLIP cosine) to one already in its room', numberIn({ min: -1, max: 1 }), GALLERY_DEFAULTS.maxSimilarity)
    .option('--thumbnail-size <px>', 'side of the thumbnails (at most the generator\'s)', integerIn({ min: 8, max: 4096 }), GALLERY_DEFAULTS.thumbnailSize)
    .option('--batch <n>', 'images per run of the networks', integerIn({ min: 1 }), 8)
    .option('--threads <n>', 'CPU threads (default: all cores)', integerIn({ min: 1 }))
    .addOption(deviceOption())
    .addHelpText('after', BUILD_HELP)
    .action(async (flags: BuildFlags) => build(flags));
}

async function build(flags: BuildFlags): Promise<void> {
  const rooms = await readRooms(flags.rooms).catch((err: Error) => {
    throw new UsageError(err.message);
  });
  const session = { batch: flags.batch, threads: flags.threads, device: flags.device, downloads: downloadProgress() };
  const forDomain = await generatorOptionsFor(flags.domain === undefined ? [] : [flags.domain]);
  const G = await loadGenerator(flags.model, { ...session, ...forDomain });
  const clip = await loadClip(flags.clip, session).catch(async (err: unknown) => {
    await G.release();
    throw err;
  });
  const progress = countProgress();
  try {
    const domain = flags.domain === undefined ? undefined : { file: flags.domain, vector: await loadDomainVector(flags.domain, G) };
    const started = performance.now();
    const manifest = await buildGallery(G, clip, {
      out: flags.out, rooms, candidates: flags.candidates, perRoom: flags.perRoom, modelReference: flags.model, domain,
      firstSeed: flags.firstSeed, truncation: flags.truncation, minScore: flags.minScore, margin: flags.margin,
      maxSimilarity: flags.maxSimilarity, thumbnailSize: flags.thumbnailSize,
      onProgress: (phase, done, total) => progress.update(phase, done, total),
    });
    progress.end();
    const seconds = (performance.now() - started) / 1000;
    const lines = manifest.rooms.map((r) => `  ${r.name.padEnd(12)} ${String(r.pictures.length).padStart(6)} pictures`);
    process.stdout.write(`wrote ${flags.out} in ${seconds.toFixed(1)} s: ${flags.candidates} candidates\n${lines.join('\n')}\n`);
  } finally {
    progress.end();
    await Promise.all([G.release(), clip.release()]);
  }
}
