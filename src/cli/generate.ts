// `ganvec generate`: images from a StyleGAN2 generator, in its own domain or in trained domain vectors.
import { Command, Option } from 'commander';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import {
  FAMILIES, batchSlice, domainVectorProblem, firstNonFinite, generatorOptionsFor, indexString, loadGenerator, loadWeightedDomains, numel,
  readNpy, readWFile, shapeString, WFileError, writeImageGrid, writeImagePng, writeNpy, zFromSeeds,
  type Device, type Generator, type NoiseMode, type Tensor, type WeightedDomain,
} from '../index.js';
import { domainArgs } from './domain-args.js';
import { deviceOption, integerIn, modelOption, threadsOption, numberIn, numberListIn, repeatable, seedList } from './options.js';
import { downloadProgress } from './progress.js';
import { UsageError } from './run.js';

const NOISE_MODES: NoiseMode[] = ['const', 'random', 'none'];
const DEFAULT_SEEDS = '0-3';
const DEFAULT_OUTDIR = './out';

const HELP = `
Latents (one of):
  --seeds LIST   z = numpy.random.RandomState(seed).randn(1, dim), as NVIDIA's generate.py, so a seed
                 gives the same image as there.
  --z FILE       float .npy of shape [N, dim].
  --w FILE       W [N, dim], W+ [N, n_latent, dim] or one W+ [n_latent, dim] (.npy), or NVIDIA's
                 projected_w.npz (key "w"); used as given (no truncation). An [n_latent, dim] array is
                 one W+ image, never n_latent images of W (save those as W+ [n_latent, n_latent, dim]).

Noise: const = the generator's stored noise maps (NVIDIA noise_mode='const', rosinality
randomize_noise=False); random = fresh N(0, 1), image i of the run drawn from RandomState(--noise-seed + i),
whatever --batch is; none = zeros.

Domains: a domain file (.dv.safetensors, checked against the generator's weights), a raw flat .npy
vector, or the https URL of a domain file (cached; pin it with #sha256=<hex>). FILE:WEIGHT scales one
domain (a.dv.safetensors:0.7); --domain may be repeated to add domains, as \`ganvec mix\` does;
--domain-strength takes one more weight for all or one per domain (0 = the original domain, 1 = as trained).

Outputs, any combination: --outdir DIR, one PNG per image (seedNNNN.png, or imgNNNN.png for --z/--w
rows); --out FILE.png, one grid of all images with gutters, each labelled with its seed (or row), in a
layout without empty cells when the count allows (8 images: 4×2; --grid-cols to choose); --npy FILE, the
raw float32 NCHW images in [-1, 1]. With none of them, --outdir ${DEFAULT_OUTDIR}. --out used to be the
folder: that is --outdir now, and --out without .png says so. --grid FILE is the older name of --out FILE.
8-bit pixels are uint8(clamp(127.5·x + 128, 0, 255)), as NVIDIA's scripts.

Examples:
  ganvec generate --model ffhq --seeds 0-7 --truncation 0.7 --outdir faces
  ganvec generate --model ffhq --seeds 0-15 --domain pixar.dv.safetensors --out pixar.png
  ganvec generate --model ffhq --seeds 1,5 --domain pixar.dv.safetensors:0.7 --domain sketch.dv.safetensors:0.5 \\
      --out mix.png --outdir mix
  ganvec generate --model ffhq --domain 'https://example.org/pixar.dv.safetensors#sha256=…' --out pixar.png
  ganvec generate --model ./network-snapshot.pkl --w latents.npy --noise none --npy images.npy`;

interface GenerateCliOptions {
  model: string;
  seeds?: number[];
  z?: string;
  w?: string;
  truncation?: number;
  noise: NoiseMode;
  noiseSeed?: number;
  domain?: string[];
  domainStrength?: number[];
  batch: number;
  threads?: number;
  device: Device;
  out?: string;
  outdir?: string;
  grid?: string;
  gridCols?: number;
  npy?: string;
}

/** The latent rows to draw and how each image's PNG is named. */
interface Latents {
  kind: 'z' | 'w';
  rows: Tensor;
  names: string[];
  /** Each image's label in the grid: its seed, or its row of --z/--w. */
  labels: string[];
}

export function registerGenerate(program: Command): void {
  const command = program
    .command('generate')
    .description('Generate images with a pretrained generator, in its own domain or in trained domains (mixed, with strengths).')
    .addOption(modelOption())
    .addOption(new Option('--seeds <list>', 'seeds such as 0-7,10').argParser(seedList).conflicts(['z', 'w']).default(undefined, JSON.stringify(DEFAULT_SEEDS)))
    .addOption(new Option('--z <file.npy>', 'z latents [N, dim]').conflicts('w'))
    .option('--w <file.npy|npz>', 'W [N, dim], W+ [N, n_latent, dim] or one W+ [n_latent, dim]; or projected_w.npz')
    .addOption(new Option('--truncation <psi>', 'truncation ψ toward the mean W; or --trunc').argParser(numberIn()).default(undefined, '1, no truncation'))
    .addOption(new Option('--noise <mode>', 'noise inputs; or --noise-mode').choices(NOISE_MODES).default('const'))
    .addOption(new Option('--noise-seed <n>', 'seed of --noise random').argParser(integerIn({ min: 0, max: 2 ** 32 - 1 })).default(undefined, '0'))
    .option('--domain <file[:weight]>', 'domain vector: .dv.safetensors, flat .npy or https URL, optionally :weight (repeat to mix)', repeatable)
    .addOption(new Option('--domain-strength <s[,s...]>', 'weight of each domain').argParser(numberListIn()).default(undefined, '1'))
    .option('--batch <n>', 'images per run of the network', integerIn({ min: 1 }), 1)
    .addOption(threadsOption())
    .addOption(deviceOption())
    .addOption(new Option('--out <file.png>', 'write all images into one labelled grid PNG').conflicts('grid'))
    .addOption(new Option('--outdir <dir>', 'write one PNG per image into this folder').default(undefined, `${JSON.stringify(DEFAULT_OUTDIR)} without --out or --npy`))
    .addOption(new Option('--grid <file.png>', 'the older name of --out').hideHelp())
    .addOption(new Option('--grid-cols <n>', 'images per grid row').argParser(integerIn({ min: 1 })).default(undefined, 'the fullest layout near square'))
    .option('--npy <file.npy>', 'write the raw float32 [N, 3, H, W] images')
    .addHelpText('after', HELP);
  const settings = familySettingOptions();
  for (const option of settings) command.addOption(option);
  command.action(async (options: GenerateCliOptions) => generate(options, settingValues(settings, options)));
}

/** One flag per generation setting of any family (StyleGAN3's --rotate, …); the generator refuses another family's. */
function familySettingOptions(): Option[] {
  const seen = new Map<string, Option>();
  for (const family of FAMILIES) {
    for (const s of family.settings ?? []) {
      if (!seen.has(s.name)) seen.set(s.name, new Option(`--${s.name} <${s.value}>`, `${s.description} (${family.name})`));
    }
  }
  return [...seen.values()];
}

function settingValues(options: Option[], given: object): Record<string, string> {
  const values = given as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const o of options) {
    const value = values[o.attributeName()];
    if (typeof value === 'string') out[o.name()] = value;
  }
  return out;
}

async function generate(options: GenerateCliOptions, settings: Record<string, string>): Promise<void> {
  checkCombinations(options);
  const grid = options.out ?? options.grid;
  const outdir = options.outdir ?? (grid || options.npy ? undefined : DEFAULT_OUTDIR);
  await prepareOutputs(outdir, grid, options);
  const zFile = options.z ? { kind: 'z' as const, path: options.z, rows: await readLatentFile(options.z, '--z') } : undefined;

  // Domain files say which parameterisation and layers they need the generator loaded with.
  const domains = await domainArgs(options.domain ?? []);
  const forDomains = await generatorOptionsFor(domains.map((d) => d.path));
  const G = await loadGenerator(options.model, { batch: options.batch, threads: options.threads, device: options.device, ...forDomains, settings, downloads: downloadProgress() });
  try {
    const latentFile = options.w ? await wLatents(G, options.w) : zFile;
    const latents = latentsFor(G, latentFile, options.seeds ?? seedList(DEFAULT_SEEDS));
    const domain = await domainFor(G, domains, options.domainStrength);
    const images = await render(G, latents, domain, options, outdir, Boolean(grid || options.npy));
    const n = latents.rows.shape[0]!;
    const size = `${G.size}×${G.size}`;
    if (outdir) process.stdout.write(`wrote ${n} PNG${n === 1 ? '' : 's'} (${size}) to ${outdir}\n`);
    if (images && grid) {
      const { rows, cols } = await writeImageGrid(grid, images, { cols: options.gridCols, labels: latents.labels });
      process.stdout.write(`wrote ${grid}: ${cols}×${rows} grid (columns×rows) of ${size} images\n`);
    }
    if (images && options.npy) {
      await writeNpy(options.npy, images);
      process.stdout.write(`wrote ${options.npy}: float32 ${shapeString(images.shape)}\n`);
    }
  } finally {
    await G.release();
  }
}

/** Option combinations that cannot mean what the user hopes: refused before any work is done. */
function checkCombinations(o: GenerateCliOptions): void {
  if (o.w && o.truncation !== undefined) {
    throw new UsageError('--truncation does not apply to --w: W latents are used as given (truncate them before saving, or pass --z or --seeds)');
  }
  if (o.noiseSeed !== undefined && o.noise !== 'random') throw new UsageError(`--noise-seed only applies to --noise random (not ${o.noise})`);
  if (o.domainStrength && !o.domain) throw new UsageError('--domain-strength needs --domain');
  if (o.domainStrength && o.domainStrength.length !== 1 && o.domainStrength.length !== o.domain!.length) {
    throw new UsageError(`--domain-strength has ${o.domainStrength.length} values for ${o.domain!.length} --domain files: give one, or one per domain`);
  }
  const grid = o.out ?? o.grid;
  if (o.gridCols !== undefined && !grid) throw new UsageError('--grid-cols needs --out FILE.png (the grid)');
  // --out used to be the folder of per-image PNGs: say so rather than write a grid into a file called `faces`.
  if (grid && extname(grid).toLowerCase() !== '.png') {
    throw new UsageError(`${o.out ? '--out' : '--grid'}: the grid is a .png file, got ${grid}; for one PNG per image in a folder use --outdir ${grid}`);
  }
}

/** Creates --outdir and checks that every output can be written, so a typo fails now, not after the images are made. */
async function prepareOutputs(outdir: string | undefined, grid: string | undefined, o: GenerateCliOptions): Promise<void> {
  const writable = async (dir: string, what: string) => {
    try {
      await access(dir, constants.W_OK);
    } catch (err) {
      throw new UsageError(`${what}: cannot write into ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  if (outdir) {
    try {
      await mkdir(outdir, { recursive: true });
    } catch (err) {
      throw new UsageError(`--outdir ${outdir}: cannot create the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    await writable(outdir, `--outdir ${outdir}`);
  }
  if (grid) await writable(dirname(grid), `${o.out ? '--out' : '--grid'} ${grid}`);
  if (o.npy) await writable(dirname(o.npy), `--npy ${o.npy}`);
}

async function readLatentFile(path: string, option: string): Promise<Tensor> {
  const t = await readNpy(path);
  if (!(t.data instanceof Float32Array)) throw new UsageError(`${option} ${path}: latents must be floats, this array holds integers`);
  const bad = firstNonFinite(t.data, (i) => indexString(t.shape, i));
  if (bad) throw new UsageError(`${option} ${path} ${bad}; latents must be finite`);
  return t as Tensor;
}

/** --w as W, W+ or one W+ image (a [n_latent, dim] array is never n_latent images), saying which it read. */
async function wLatents(G: Generator, path: string): Promise<{ kind: 'w'; path: string; rows: Tensor }> {
  try {
    const file = await readWFile(path, G.nLatent, G.styleDim);
    process.stderr.write(`--w: read ${file.read}\n`);
    return { kind: 'w', path, rows: file.rows };
  } catch (err) {
    if (err instanceof WFileError) throw new UsageError(`--w ${err.message}`);
    throw err;
  }
}

function latentsFor(G: Generator, file: { kind: 'z' | 'w'; path: string; rows: Tensor } | undefined, seeds: number[]): Latents {
  const d = G.styleDim;
  if (!file) {
    return { kind: 'z', rows: zFromSeeds(seeds, d), names: seeds.map((s) => `seed${String(s).padStart(4, '0')}.png`), labels: seeds.map(String) };
  }
  const { kind, path, rows } = file;
  const shape = rows.shape;
  const isW = shape.length === 2 && shape[1] === d;
  const isWPlus = shape.length === 3 && shape[1] === G.nLatent && shape[2] === d;
  if (!(kind === 'z' ? isW : isW || isWPlus) || shape[0] === 0) {
    const wants = kind === 'z' ? `[N, ${d}]` : `W [N, ${d}] or W+ [N, ${G.nLatent}, ${d}]`;
    throw new UsageError(`--${kind} ${path} has shape ${shapeString(shape)}; this generator takes ${wants} with N ≥ 1`);
  }
  const rowNumbers = Array.from({ length: shape[0]! }, (_, i) => i);
  return { kind, rows, names: rowNumbers.map((i) => `img${String(i).padStart(4, '0')}.png`), labels: rowNumbers.map((i) => `#${i}`) };
}

async function domainFor(G: Generator, domains: WeightedDomain[], strengths: number[] | undefined): Promise<Float32Array | undefined> {
  if (domains.length === 0) return undefined;
  const weighted = domains.map((d, i) => ({ ...d, weight: d.weight * (strengths?.[strengths.length === 1 ? 0 : i] ?? 1) }));
  const mixed = await loadWeightedDomains(weighted, G);
  // Each file was checked as it loaded; weights (or a sum of several domains) can still blow one up.
  const problem = domainVectorProblem(mixed, G);
  if (problem) {
    const mix = strengths ? `--domain-strength ${strengths.join(',')}` : `--domain ${weighted.map((d) => `${d.path}:${d.weight}`).join(' + ')}`;
    throw new UsageError(`${mix}: the mixed domain vector ${problem}`);
  }
  return mixed;
}

/**
 * Runs the generator `batch` images at a time, writing PNGs as they come, with a progress line on a
 * terminal. Returns all images when `keep` (a grid or an .npy needs them).
 */
async function render(G: Generator, latents: Latents, domain: Float32Array | undefined, o: GenerateCliOptions, outdir: string | undefined, keep: boolean) {
  const n = latents.rows.shape[0]!;
  const all = keep ? new Float32Array(n * 3 * G.size * G.size) : undefined;
  const progress = process.stderr.isTTY ? (text: string) => process.stderr.write(`\r${text}\x1b[K`) : undefined;
  const started = performance.now();
  for (let start = 0; start < n; start += G.batch) {
    const count = Math.min(G.batch, n - start);
    const rows = batchSlice(latents.rows, start, count, count);
    // Each chunk draws its own random noise; seeding by the first image's index keeps reruns identical.
    const common = { domain, noise: o.noise, noiseSeed: ((o.noiseSeed ?? 0) + start) >>> 0 };
    const images = latents.kind === 'z' ? await G.generate({ z: rows, truncation: o.truncation, ...common }) : await G.synthesize({ w: rows, ...common });
    if (outdir) for (let i = 0; i < count; i++) await writeImagePng(join(outdir, latents.names[start + i]!), images, i);
    all?.set(images.data, start * numel(images.shape.slice(1)));
    const done = start + count;
    progress?.(`generate: ${done}/${n} images, ${((performance.now() - started) / 1000 / done).toFixed(2)} s/image`);
  }
  progress?.('');
  return all && { data: all, shape: [n, 3, G.size, G.size] };
}
