// `ganvec info`: what a file is — a generator, a domain file, another checkpoint (e.g. CLIP) or a .npy array.
import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import {
  DEFAULT_PARAMETERISATION, DOMAIN_FILE_FORMAT, generatorFromCheckpoint, holdsGenerator, isNpyFile, parameterisationNamed,
  printable, printableJson, readCheckpoint, readDomainFile, readNpy, shapeString, vectorSize,
  type Checkpoint, type DomainFile, type LoadedTensor, type ReadGenerator,
} from '../index.js';
import { UsageError } from './run.js';

type Row = [string, string];

interface Description {
  json: Record<string, unknown>;
  rows: Row[];
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('Describe a file: a StyleGAN2 generator (any supported format), a domain file, another checkpoint or a .npy array')
    .argument('<file>', 'file to describe')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Examples:
  ganvec info ~/.cache/ganvec/generator/stylegan2-ffhq-config-f.pt
  ganvec info pixar.dv.safetensors --json`,
    )
    .action(async (file: string, options: { json?: boolean }) => {
      const { json, rows } = await describe(file);
      if (options.json) process.stdout.write(`${printableJson(json)}\n`);
      else process.stdout.write(formatRows(rows));
    });
}

async function describe(path: string): Promise<Description> {
  const found = await stat(path).catch(() => undefined);
  if (!found?.isFile()) throw new UsageError(found ? `${path} is not a file` : `no such file: ${path}`);
  if (isNpyFile(path)) return describeNpy(path);
  // Read once, then decide what it is. Unreadable files fail here; a generator that cannot be mapped
  // (StyleGAN3, class-conditional, missing tensors) fails with its reason rather than as "some checkpoint".
  const ck = await readCheckpoint(path);
  if (ck.format === 'safetensors' && ck.metadata?.format === DOMAIN_FILE_FORMAT) return describeDomain(path, await readDomainFile(path));
  if (holdsGenerator(ck)) return describeGenerator(path, generatorFromCheckpoint(ck, path));
  return describeCheckpoint(path, ck);
}

function describeGenerator(path: string, { family, arch, format }: ReadGenerator): Description {
  const d = family.describe(arch);
  const parameterisation = parameterisationNamed(DEFAULT_PARAMETERISATION);
  const layers = parameterisation.layers(d.layers);
  const details = Object.fromEntries(d.details.map(({ key, value }) => [key, value]));
  const json = {
    kind: 'generator',
    file: path,
    format,
    resolution: d.size,
    styleDim: d.zDim,
    nLatent: d.nLatent,
    ...details,
    parameters: d.parameters,
    domainSize: vectorSize(layers),
    domainLayers: layers,
    fingerprint: family.fingerprint(arch),
    hasWAvg: d.wAvg !== undefined,
  };
  const rows: Row[] = [
    ['file', path],
    ['kind', `${d.title} generator (${format})`],
    ['resolution', `${d.size}×${d.size}`],
    ['style dim', String(d.zDim)],
    ['n_latent', String(d.nLatent)],
    ...d.details.map(({ label, shown }): Row => [label, shown]),
    ['parameters', json.parameters.toLocaleString('en-US')],
    ['domain vector', `${json.domainSize.toLocaleString('en-US')} values (${layers.map((l) => `${l.name} ${l.dim}`).join(', ')})`],
    ['fingerprint', json.fingerprint],
    ['w_avg', json.hasWAvg ? 'stored' : d.noTruncation ? `none: no truncation (${d.noTruncation})` : 'absent (estimated from 4,096 samples when truncating)'],
  ];
  return { json, rows };
}

function describeDomain(path: string, file: DomainFile): Description {
  const { vector, layers, metadata } = file;
  let offset = 0;
  const perLayer = layers.map(({ name, dim }) => ({ name, dim, norm: norm(vector.subarray(offset, (offset += dim))) }));
  const json = {
    kind: 'domain',
    file: path,
    baseModel: metadata.base_model,
    baseFingerprint: metadata.base_fingerprint,
    size: vector.length,
    norm: norm(vector),
    layers: perLayer,
    metadata,
  };
  const rows: Row[] = [
    ['file', path],
    ['kind', `ganvec domain file (format_version ${metadata.format_version})`],
    ['for generator', `${metadata.base_model} (fingerprint ${metadata.base_fingerprint})`],
    ['vector', `${vector.length.toLocaleString('en-US')} values, L2 norm ${json.norm.toPrecision(4)}`],
    ['layers', perLayer.map((l) => `${l.name} ${l.dim} (norm ${l.norm.toPrecision(3)})`).join(', ')],
    ...Object.entries(metadata)
      .filter(([key]) => !['format', 'format_version', 'base_model', 'base_fingerprint', 'layers'].includes(key))
      .map(([key, value]): Row => [key, value]),
  ];
  return { json, rows };
}

function describeCheckpoint(path: string, ck: Checkpoint): Description {
  const names = [...ck.tensors.keys()];
  const clip = names.some((n) => n.startsWith('visual.')) ? 'OpenAI' : names.some((n) => n.startsWith('vision_model.')) ? 'Hugging Face' : undefined;
  const networks = Object.keys(ck.networks ?? {});
  const json = { kind: clip ? 'clip' : 'checkpoint', file: path, format: ck.format, tensors: names.length, clipLayout: clip ?? null, networks, metadata: ck.metadata ?? {} };
  const rows: Row[] = [
    ['file', path],
    ['kind', clip ? `CLIP model (${clip} names: ${clip === 'OpenAI' ? 'visual.*' : 'vision_model.*'})` : 'not a StyleGAN2 generator or a domain file'],
    ['format', ck.format],
    ['tensors', String(names.length)],
  ];
  if (networks.length > 0) rows.push(['networks', networks.join(', ')]);
  return { json, rows };
}

async function describeNpy(path: string): Promise<Description> {
  const t = (await readNpy(path)) as LoadedTensor;
  const json = { kind: 'npy', file: path, dtype: t.storedAs, shape: t.shape };
  return { json, rows: [['file', path], ['kind', 'NumPy array'], ['dtype', t.storedAs], ['shape', shapeString(t.shape)]] };
}

function norm(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return Math.sqrt(sum);
}

/** One line per row, with the file's own text (metadata, names) escaped so that it cannot act on the terminal. */
function formatRows(rows: Row[]): string {
  const shown = rows.map(([key, value]) => [printable(key), printable(value)] as const);
  const width = Math.max(...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `${key.padEnd(width)}  ${value}\n`).join('');
}
