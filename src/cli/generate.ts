// `ganvec generate`: images from a StyleGAN2 generator, in its own domain or in trained domain vectors.
import { Command, Option } from 'commander';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  FAMILIES, batchSlice, domainVectorProblem, firstNonFinite, generatorOptionsFor, indexString, loadDomainVector, loadGenerator, mixDomainVectors, numel,
  readNpy, shapeString, writeImageGrid, writeImagePng, writeNpy, zFromSeeds,
  type Device, type Generator, type NoiseMode, type Tensor,
} from '../index.js';
import { deviceOption, integerIn, numberIn, numberListIn, repeatable, seedList } from './options.js';
import { downloadProgress } from './progress.js';
import { UsageError } from './run.js';

const NOISE_MODES: NoiseMode[] = ['const', 'random', 'none'];
const DEFAULT_SEEDS = '0-3';
const DEFAULT_OUT = './out';

const HELP = `
Latents (one of):
  --seeds LIST   z = numpy.random.RandomState(seed).randn(1, dim), as NVIDIA's generate.py, so a seed
                 gives the same image as there. Default ${DEFAULT_SEEDS}.
  --z FILE       float .npy of shape [N, dim].
  --w FILE       float .npy of W [N, dim] or W+ [N, n_latent, dim], used as given (no truncation).

Noise: const = the generator's stored noise maps (NVIDIA noise_mode='const', rosinality
randomize_noise=False); random = fresh N(0, 1), image i of the run drawn from RandomState(--noise-seed + i),
whatever --batch is; none = zeros.

Domains: a domain file (.dv.safetensors, checked against the generator's weights) or a raw flat .npy
vector. --domain may be repeated to mix domains; --domain-strength takes one weight for all or one per
domain (0 = the original domain, 1 = as trained).

Outputs: PNGs named seedNNNN.png (or imgNNNN.png for --z/--w rows) in --out, all images tiled in one
--grid PNG, and/or the raw float32 NCHW images in [-1, 1] as --npy. Default: --out ${DEFAULT_OUT}, unless
--grid or --npy is given. 8-bit pixels are uint8(clamp(127.5·x + 128, 0, 255)), as NVIDIA's scripts.

Examples:
  $ ganvec generate --model ffhq --seeds 0-7 --truncation 0.7 --out faces
  $ ganvec generate --model ffhq --seeds 0-15 --domain pixar.dv.safetensors --grid pixar.png
  $ ganvec generate --model ffhq --seeds 1,5 --domain pixar.dv.safetensors --domain sketch.dv.safetensors \\
      --domain-strength 0.5,0.5 --out mix
  $ ganvec generate --model ./network-snapshot.pkl --w latents.npy --noise none --npy images.npy`;

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
  grid?: string;
  gridCols?: number;
  npy?: string;
}

/** The latent rows to draw and how each image's PNG is named. */
interface Latents {
  kind: 'z' | 'w';
  rows: Tensor;
  names: string[];
}

export function registerGenerate(program: Command): void {
  const command = program
    .command('generate')
    .description('generate images with a StyleGAN2 generator, optionally in trained domains')
    .requiredOption('--model <name|file>', 'registered generator name (see `ganvec models list`) or checkpoint file (.pt, .pkl, .safetensors); NVIDIA\'s --network works too')
    .addOption(new Option('--seeds <list>', `seeds such as 0-7,10 (default: ${DEFAULT_SEEDS})`).argParser(seedList).conflicts(['z', 'w']))
    .addOption(new Option('--z <file.npy>', 'z latents [N, dim]').conflicts('w'))
    .option('--w <file.npy>', 'W [N, dim] or W+ [N, n_latent, dim] latents')
    .option('--truncation <psi>', 'truncation ψ toward the mean W (default: 1, none); or --trunc', numberIn())
    .addOption(new Option('--noise <mode>', 'noise inputs; or --noise-mode').choices(NOISE_MODES).default('const'))
    .option('--noise-seed <n>', 'seed of --noise random (default: 0)', integerIn({ min: 0, max: 2 ** 32 - 1 }))
    .option('--domain <file>', 'domain vector: .dv.safetensors or flat .npy (repeat to mix)', repeatable)
    .option('--domain-strength <s[,s...]>', 'weight of each domain (default: 1)', numberListIn())
    .option('--batch <n>', 'images per run of the network', integerIn({ min: 1 }), 1)
    .option('--threads <n>', 'CPU threads (default: all cores)', integerIn({ min: 1 }))
    .addOption(deviceOption())
    .addOption(new Option('--out <dir>', `write one PNG per image into this directory (default: ${DEFAULT_OUT})`).conflicts('grid'))
    .option('--grid <file.png>', 'write all images tiled into one PNG')
    .option('--grid-cols <n>', 'images per grid row (default: ⌈√N⌉)', integerIn({ min: 1 }))
    .option('--npy <file.npy>', 'write the raw float32 [N, 3, H, W] images')
    .addHelpText('after', HELP);
  const settings = familySettingOptions();
  for (const option of settings) command.addOption(option);
  command.action(async (options: GenerateCliOptions) => generate(options, settingValues(settings, options)));
}

/** One flag per generation setting of any family (StyleGAN3's --rotate, …); the generator refuses another family's. */
export function familySettingOptions(): Option[] {
  const seen = new Map<string, Option>();
  for (const family of FAMILIES) {
    for (const s of family.settings ?? []) {
      if (!seen.has(s.name)) seen.set(s.name, new Option(`--${s.name} <${s.value}>`, `${s.description} (${family.name})`));
    }
  }
  return [...seen.values()];
}

export function settingValues(options: Option[], given: object): Record<string, string> {
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
  const out = options.out ?? (options.grid || options.npy ? undefined : DEFAULT_OUT);
  await prepareOutputs(out, options);
  const given = options.w ? { kind: 'w' as const, path: options.w } : options.z ? { kind: 'z' as const, path: options.z } : undefined;
  const latentFile = given && { ...given, rows: await readLatentFile(given.path, `--${given.kind}`) };

  // Domain files say which parameterisation and layers they need the generator loaded with.
  const forDomains = await generatorOptionsFor(options.domain ?? []);
  const G = await loadGenerator(options.model, { batch: options.batch, threads: options.threads, device: options.device, ...forDomains, settings, downloads: downloadProgress() });
  try {
    const latents = latentsFor(G, latentFile, options.seeds ?? seedList(DEFAULT_SEEDS));
    const domain = await domainFor(G, options.domain ?? [], options.domainStrength);
    const images = await render(G, latents, domain, options, out);
    const n = latents.rows.shape[0]!;
    const size = `${G.size}×${G.size}`;
    if (out) process.stdout.write(`wrote ${n} PNG${n === 1 ? '' : 's'} (${size}) to ${out}\n`);
    if (images && options.grid) {
      const { rows, cols } = await writeImageGrid(options.grid, images, { cols: options.gridCols });
      process.stdout.write(`wrote ${options.grid}: ${rows}×${cols} grid of ${size} images\n`);
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
  if (o.gridCols !== undefined && !o.grid) throw new UsageError('--grid-cols needs --grid');
}

/** Creates --out and checks that every output can be written, so a typo fails now, not after the images are made. */
async function prepareOutputs(out: string | undefined, o: GenerateCliOptions): Promise<void> {
  const writable = async (dir: string, what: string) => {
    try {
      await access(dir, constants.W_OK);
    } catch (err) {
      throw new UsageError(`${what}: cannot write into ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  if (out) {
    try {
      await mkdir(out, { recursive: true });
    } catch (err) {
      throw new UsageError(`--out ${out}: cannot create the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    await writable(out, `--out ${out}`);
  }
  if (o.grid) await writable(dirname(o.grid), `--grid ${o.grid}`);
  if (o.npy) await writable(dirname(o.npy), `--npy ${o.npy}`);
}

async function readLatentFile(path: string, option: string): Promise<Tensor> {
  const t = await readNpy(path);
  if (!(t.data instanceof Float32Array)) throw new UsageError(`${option} ${path}: latents must be floats, this array holds integers`);
  const bad = firstNonFinite(t.data, (i) => indexString(t.shape, i));
  if (bad) throw new UsageError(`${option} ${path} ${bad}; latents must be finite`);
  return t as Tensor;
}

function latentsFor(G: Generator, file: { kind: 'z' | 'w'; path: string; rows: Tensor } | undefined, seeds: number[]): Latents {
  const d = G.styleDim;
  if (!file) return { kind: 'z', rows: zFromSeeds(seeds, d), names: seeds.map((s) => `seed${String(s).padStart(4, '0')}.png`) };
  const { kind, path, rows } = file;
  const shape = rows.shape;
  const isW = shape.length === 2 && shape[1] === d;
  const isWPlus = shape.length === 3 && shape[1] === G.nLatent && shape[2] === d;
  if (!(kind === 'z' ? isW : isW || isWPlus) || shape[0] === 0) {
    const wants = kind === 'z' ? `[N, ${d}]` : `W [N, ${d}] or W+ [N, ${G.nLatent}, ${d}]`;
    throw new UsageError(`--${kind} ${path} has shape ${shapeString(shape)}; this generator takes ${wants} with N ≥ 1`);
  }
  return { kind, rows, names: Array.from({ length: shape[0]! }, (_, i) => `img${String(i).padStart(4, '0')}.png`) };
}

export async function domainFor(G: Generator, files: string[], strengths: number[] | undefined): Promise<Float32Array | undefined> {
  if (files.length === 0) return undefined;
  const vectors = await Promise.all(files.map((file) => loadDomainVector(file, G)));
  const weights = files.map((_, i) => strengths?.[strengths.length === 1 ? 0 : i] ?? 1);
  const mixed = mixDomainVectors(vectors, weights);
  // Each file was checked as it loaded; strengths (or a sum of several domains) can still blow one up.
  const problem = domainVectorProblem(mixed, G);
  if (problem) {
    const mix = strengths ? `--domain-strength ${strengths.join(',')}` : `--domain ${files.join(' + ')}`;
    throw new UsageError(`${mix}: the mixed domain vector ${problem}`);
  }
  return mixed;
}

/**
 * Runs the generator `batch` images at a time, writing PNGs as they come, with a progress line on a
 * terminal. Returns all images when a grid or an .npy needs them.
 */
async function render(G: Generator, latents: Latents, domain: Float32Array | undefined, o: GenerateCliOptions, out: string | undefined) {
  const n = latents.rows.shape[0]!;
  const keep = Boolean(o.grid || o.npy);
  const all = keep ? new Float32Array(n * 3 * G.size * G.size) : undefined;
  const progress = process.stderr.isTTY ? (text: string) => process.stderr.write(`\r${text}\x1b[K`) : undefined;
  const started = performance.now();
  for (let start = 0; start < n; start += G.batch) {
    const count = Math.min(G.batch, n - start);
    const rows = batchSlice(latents.rows, start, count, count);
    // Each chunk draws its own random noise; seeding by the first image's index keeps reruns identical.
    const common = { domain, noise: o.noise, noiseSeed: ((o.noiseSeed ?? 0) + start) >>> 0 };
    const images = latents.kind === 'z' ? await G.generate({ z: rows, truncation: o.truncation, ...common }) : await G.synthesize({ w: rows, ...common });
    if (out) for (let i = 0; i < count; i++) await writeImagePng(join(out, latents.names[start + i]!), images, i);
    all?.set(images.data, start * numel(images.shape.slice(1)));
    const done = start + count;
    progress?.(`generate: ${done}/${n} images, ${((performance.now() - started) / 1000 / done).toFixed(2)} s/image`);
  }
  progress?.('');
  return all && { data: all, shape: [n, 3, G.size, G.size] };
}
