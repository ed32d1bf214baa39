// `ganvec gallery build|serve`: generated pictures sorted into themed rooms by CLIP, and a small web app where each picture gets one owner.
import type { Command } from 'commander';
import { join } from 'node:path';
import {
  buildGallery, GALLERY_DEFAULTS, generatorOptionsFor, loadClip, loadDomainVector, loadGenerator, readManifest, readRooms, serveGallery, SERVE_DEFAULTS,
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
  ganvec gallery build --model ffhq --rooms examples/gallery/rooms.json --candidates 20000 --per-room 1000 --out gallery/
  ganvec gallery build --model ffhq --domain pixar.dv.safetensors --rooms rooms.json --candidates 2000 --per-room 100`;

export function registerGallery(program: Command): void {
  const gallery = program.command('gallery').description('a gallery of generated pictures in themed rooms chosen by CLIP, each picture with one owner')
    .addHelpText('after', `
Examples:
  ganvec gallery build --model ffhq --rooms examples/gallery/rooms.json --candidates 20000 --per-room 1000 --out gallery/
  ganvec gallery serve gallery/`);
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
  gallery
    .command('serve')
    .description('serve a built gallery: rooms, pictures, claims (first claim wins), full-size downloads for owners')
    .argument('<dir>', 'the folder `ganvec gallery build` wrote')
    .option('--db <dir>', 'claims database folder (embedded PostgreSQL, created on first use; default: <dir>/claims.db)')
    .option('--host <address>', 'address to listen on', SERVE_DEFAULTS.host)
    .option('--port <n>', 'port to listen on (0: any free port)', integerIn({ min: 0, max: 65535 }), SERVE_DEFAULTS.port)
    .option('--model <name|file>', 'the generator the gallery was built with (default: as the manifest records it; its fingerprint must match)')
    .option('--domain <file>', 'the domain file the gallery was built in (default: as recorded; its sha256 must match)')
    .option('--claims-per-minute <n>', 'claim attempts allowed per client address per minute', integerIn({ min: 1 }), SERVE_DEFAULTS.claimsPerMinute)
    .option('--threads <n>', 'CPU threads for generating downloads (default: all cores)', integerIn({ min: 1 }))
    .addOption(deviceOption())
    .addHelpText('after', SERVE_HELP)
    .action(async (dir: string, flags: ServeFlags) => serve(dir, flags));
}

interface ServeFlags {
  db?: string;
  host: string;
  port: number;
  model?: string;
  domain?: string;
  claimsPerMinute: number;
  threads?: number;
  device: Device;
}

const SERVE_HELP = `
Pages: / (the rooms), /rooms/<room> (its thumbnails), /pictures/<id> (a picture, with a Claim button).
The first claim of a picture wins (the claims database's primary key decides); the claimant gets an
owner token in an HttpOnly cookie and can download the full-size image, generated on demand from the
picture's seed. Nobody else can; seeds, the manifest and the domain file are never served. A visitor may
own several pictures. Stop with Ctrl-C; claims are on disk as soon as they are answered.

Examples:
  ganvec gallery serve gallery/
  ganvec gallery serve gallery/ --port 3000 --db /var/lib/ganvec/claims.db`;

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

async function serve(dir: string, flags: ServeFlags): Promise<void> {
  const manifest = await readManifest(dir);
  const domainFile = flags.domain ?? manifest.domain?.file;
  const forDomain = await generatorOptionsFor(domainFile === undefined ? [] : [domainFile]);
  const G = await loadGenerator(flags.model ?? manifest.model.reference, { threads: flags.threads, device: flags.device, downloads: downloadProgress(), ...forDomain });
  let server;
  try {
    const domain = domainFile === undefined ? undefined : { file: domainFile, vector: await loadDomainVector(domainFile, G) };
    server = await serveGallery({
      dir, db: flags.db ?? join(dir, 'claims.db'), generator: G, domain, host: flags.host, port: flags.port, claimsPerMinute: flags.claimsPerMinute,
      onError: (err) => process.stderr.write(`gallery: ${err.message}\n`),
    });
  } catch (err) {
    await G.release();
    throw err;
  }
  const pictures = manifest.rooms.reduce((n, r) => n + r.pictures.length, 0);
  process.stdout.write(`serving ${pictures} pictures in ${manifest.rooms.length} rooms at ${server.url}/\n`);
  const running = server;
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
  await G.release();
}
