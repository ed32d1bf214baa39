/**
 * Domain files (DESIGN.md §6): a trained vector as safetensors, `*.dv.safetensors`, one F32 tensor per
 * layer named after it (`conv1`, `convs.0`, …) so the file reads naturally in Python too, and string
 * metadata saying what it was trained on and how, including its parameterisation (`domain-vector` when a
 * file does not say: files of format version 1 before StyleSpace offsets). A vector only means something
 * on the exact weights and parameterisation it was trained with, so loading checks the generator's
 * fingerprint, the parameterisation and the layers.
 */
import { basename, extname } from 'node:path';
import { firstNonFinite, numel, shapeString } from '../core/tensor.js';
import type { Generator } from '../generators/generator.js';
import { CheckpointError } from '../io/errors.js';
import { isNpyFile, readNpy } from '../io/npy.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { LayerSelection } from '../parameterisations/layer-selection.js';
import { layerPosition, type ParameterLayer } from '../parameterisations/parameterisation.js';
import { DEFAULT_PARAMETERISATION } from '../parameterisations/registry.js';
import { VERSION } from '../version.js';

export const DOMAIN_FILE_FORMAT = 'ganvec-domain';
export const DOMAIN_FILE_VERSION = '1';

export type DomainLayer = ParameterLayer;

export interface DomainFile {
  /** The flat vector: the layers' values concatenated in `layers` order. */
  vector: Float32Array;
  layers: DomainLayer[];
  /** All values are strings (safetensors `__metadata__`); JSON where a value is structured. */
  metadata: Record<string, string>;
}

/** What loading a domain vector needs to know about a generator. */
export type DomainTarget = Pick<Generator, 'domainLayers' | 'source' | 'parameterisation'>;

/** The parameterisation a domain file's vector is for. */
export function fileParameterisation(file: DomainFile): string {
  return file.metadata.parameterisation ?? DEFAULT_PARAMETERISATION;
}

/** What every written domain file names: the generator its vector is for. */
const REQUIRED_METADATA = ['base_model', 'base_fingerprint'] as const;
/** Provenance of a trained file, besides `prompt` or `image_set`; a mix names its `parents` instead, an import the file it came from (`imported_from`). */
const TRAINING_METADATA = ['losses', 'iterations', 'clip_models', 'seed'] as const;
/** What reading needs; files written by hand or by other tools may lack the rest. */
const REQUIRED_TO_READ = ['base_model', 'base_fingerprint', 'layers'] as const;


/** A generator's name as domain files record it: its file name without the extension (a registry name for cached models). */
export function generatorName(generator: DomainTarget): string {
  const file = basename(generator.source.path);
  return file.slice(0, file.length - extname(file).length) || file;
}

/** The `base_model` and `base_fingerprint` metadata of a domain vector trained on this generator. */
export function baseModelMetadata(generator: DomainTarget): { base_model: string; base_fingerprint: string } {
  return { base_model: generatorName(generator), base_fingerprint: generator.source.fingerprint };
}

/**
 * Writes a domain file atomically. The caller's metadata must hold `base_model`, `base_fingerprint` and
 * where the vector came from: `parents` (a mix), `imported_from` (an import), or its training (`prompt` or
 * `image_set`, `losses`, `iterations`, `clip_models` and `seed`); any other string keys are kept.
 * `format`, `format_version`, `layers` and `tool_version` are always set here.
 */
export async function writeDomainFile(path: string, file: DomainFile): Promise<void> {
  const { vector, layers, metadata } = file;
  checkLayers(layers, (problem) => new Error(`writeDomainFile ${path}: ${problem}`));
  const total = layers.reduce((n, l) => n + l.dim, 0);
  if (vector.length !== total) throw new Error(`writeDomainFile ${path}: the vector has ${vector.length} values but the layers add up to ${total}`);
  const missing: string[] = REQUIRED_METADATA.filter((key) => metadata[key] === undefined);
  if (metadata.parents === undefined && metadata.imported_from === undefined) {
    missing.push(...TRAINING_METADATA.filter((key) => metadata[key] === undefined));
    if (metadata.prompt === undefined && metadata.image_set === undefined) missing.push('prompt or image_set');
  }
  if (missing.length > 0) throw new Error(`writeDomainFile ${path}: metadata lacks ${missing.join(', ')}`);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new TypeError(`writeDomainFile ${path}: metadata ${key} is a ${typeof value}, not a string`);
  }
  const bad = nonFiniteValue(vector, layers);
  if (bad) throw new Error(`writeDomainFile ${path}: the domain vector ${bad}`);

  const tensors = new Map(slices(vector, layers).map(({ name, data }) => [name, { data, shape: [data.length] }]));
  await writeSafetensors(path, tensors, {
    ...metadata,
    format: DOMAIN_FILE_FORMAT,
    format_version: DOMAIN_FILE_VERSION,
    parameterisation: metadata.parameterisation ?? DEFAULT_PARAMETERISATION,
    layers: JSON.stringify(layers.map(({ name, dim }) => ({ name, dim }))),
    tool_version: VERSION,
  });
}

/** Reads and validates a domain file: ganvec format, layers as listed in its metadata, F32 1-D tensors, finite values. */
export async function readDomainFile(path: string): Promise<DomainFile> {
  const { tensors, metadata } = await readSafetensors(path);
  const fail = (problem: string) => new CheckpointError(path, problem);
  if (metadata.format !== DOMAIN_FILE_FORMAT) {
    const found = metadata.format === undefined ? 'no format' : `format "${metadata.format}"`;
    throw fail(`not a ganvec domain file: its safetensors metadata has ${found}, expected "${DOMAIN_FILE_FORMAT}"`);
  }
  if (metadata.format_version !== DOMAIN_FILE_VERSION) {
    throw fail(`domain file format_version ${JSON.stringify(metadata.format_version)}; this ganvec (${VERSION}) reads version ${DOMAIN_FILE_VERSION}`);
  }
  for (const key of REQUIRED_TO_READ) if (metadata[key] === undefined) throw fail(`its metadata lacks ${key}`);

  let layers: DomainLayer[];
  try {
    layers = JSON.parse(metadata.layers) as DomainLayer[];
  } catch {
    throw fail(`its "layers" metadata is not JSON: ${JSON.stringify(metadata.layers)}`);
  }
  checkLayers(layers, (problem) => fail(`its "layers" metadata is malformed: ${problem}`));
  layers = layers.map(({ name, dim }) => ({ name, dim }));

  const listed = new Set(layers.map((l) => l.name));
  const extra = [...tensors.keys()].filter((name) => !listed.has(name));
  if (extra.length > 0) throw fail(`tensors ${extra.join(', ')} are not in its "layers" metadata`);
  const vector = new Float32Array(layers.reduce((n, l) => n + l.dim, 0));
  let offset = 0;
  for (const { name, dim } of layers) {
    const t = tensors.get(name);
    if (!t) throw fail(`layer ${name} is listed in its metadata but has no tensor`);
    if (t.storedAs !== 'float32' || t.shape.length !== 1 || t.shape[0] !== dim) {
      throw fail(`tensor ${name} is ${t.storedAs} ${shapeString(t.shape)}; a domain layer must be float32 [${dim}]`);
    }
    vector.set(t.data as Float32Array, offset);
    offset += dim;
  }
  const bad = nonFiniteValue(vector, layers);
  if (bad) throw fail(`the domain vector ${bad}`);
  return { vector, layers, metadata };
}

/**
 * The domain vector in `path` for this generator: a `.dv.safetensors` domain file trained on these exact
 * weights (same layers and fingerprint), or a raw flat `.npy` of the generator's domain size (Python tools
 * write those; nothing in it says which generator it is for, so only its length is checked). Refused, naming
 * the file, when it holds a NaN or infinity or values that would overflow synthesis (domainVectorProblem).
 */
export async function loadDomainVector(path: string, generator: DomainTarget): Promise<Float32Array> {
  const vector = await readDomainVector(path, generator);
  const problem = domainVectorProblem(vector, generator);
  if (problem) throw new CheckpointError(path, `the domain vector ${problem}`);
  return vector;
}

async function readDomainVector(path: string, generator: DomainTarget): Promise<Float32Array> {
  const expected = generator.domainLayers;
  const size = expected.reduce((n, l) => n + l.dim, 0);
  if (isNpyFile(path)) return readFlatNpy(path, size, expected);

  const file = await readDomainFile(path);
  const { base_model: model, base_fingerprint: trainedOn } = file.metadata;
  if (trainedOn !== generator.source.fingerprint) {
    throw new Error(
      `domain file ${path} was trained on ${model} (fingerprint ${trainedOn}), but this generator is ` +
        `${generatorName(generator)} (fingerprint ${generator.source.fingerprint}): a domain vector only works on the weights it was trained on`,
    );
  }
  const trainedAs = fileParameterisation(file);
  if (trainedAs !== generator.parameterisation.name) {
    throw new CheckpointError(path, `it holds ${trainedAs} values; this generator was loaded for ${generator.parameterisation.name} (pass parameterisation: '${trainedAs}' or --parameterisation ${trainedAs})`);
  }
  // Same fingerprint means same weights, so differing layers mean another layer selection, or an edited file.
  const describe = (layers: DomainLayer[]) => layers.map((l) => `${l.name}:${l.dim}`).join(' ');
  if (describe(file.layers) !== describe(expected)) {
    throw new CheckpointError(path, `its layers (${describe(file.layers)}) are not this generator's (${describe(expected)})`);
  }
  return file.vector;
}

async function readFlatNpy(path: string, size: number, layers: DomainLayer[]): Promise<Float32Array> {
  const t = await readNpy(path);
  const flat = t.shape.filter((d) => d !== 1).length <= 1;
  if (!(t.data instanceof Float32Array) || !flat || numel(t.shape) !== size) {
    const found = t.data instanceof Float32Array ? `has shape ${shapeString(t.shape)}` : `holds integers, shape ${shapeString(t.shape)}`;
    throw new CheckpointError(
      path,
      `a raw domain vector must be a flat float array of ${size} values for this generator ` +
        `(${layers.map((l) => `${l.name} ${l.dim}`).join(' + ')}); this one ${found}`,
    );
  }
  return t.data;
}

function checkLayers(layers: unknown, fail: (problem: string) => Error): asserts layers is DomainLayer[] {
  if (!Array.isArray(layers) || layers.length === 0) throw fail('expected a non-empty list of {name, dim}');
  const seen = new Set<string>();
  for (const layer of layers as unknown[]) {
    const { name, dim } = (layer ?? {}) as Partial<DomainLayer>;
    if (typeof name !== 'string' || name === '' || name === '__metadata__') throw fail(`bad layer name ${JSON.stringify(name)}`);
    if (!Number.isSafeInteger(dim) || dim! <= 0) throw fail(`layer ${name} has dim ${JSON.stringify(dim)}`);
    if (seen.has(name)) throw fail(`layer ${name} appears twice`);
    seen.add(name);
  }
}

function slices(vector: Float32Array, layers: readonly DomainLayer[]): Array<{ name: string; data: Float32Array }> {
  let offset = 0;
  return layers.map(({ name, dim }) => ({ name, data: vector.slice(offset, (offset += dim)) }));
}

/** Where the first NaN or infinity is ("holds NaN at conv1[3] (flat index 3)"), or undefined when all values are finite. */
function nonFiniteValue(vector: Float32Array, layers: readonly DomainLayer[]): string | undefined {
  return firstNonFinite(vector, (i) => layerPosition(layers, i));
}

/**
 * Why `vector` cannot drive synthesis on this generator, said of the vector ("holds NaN at …", "is too
 * large: …" as its parameterisation bounds it), or undefined. loadDomainVector applies it; call it on a
 * vector made some other way (a mix).
 */
export function domainVectorProblem(vector: Float32Array, generator: Pick<DomainTarget, 'domainLayers' | 'parameterisation'>): string | undefined {
  return nonFiniteValue(vector, generator.domainLayers) ?? generator.parameterisation.problem(vector, generator.domainLayers);
}

/**
 * How to load a generator for these domain files: the parameterisation and layers they were trained
 * with (a raw `.npy` says nothing, so it counts as a domain vector over all layers). Files that differ
 * cannot be mixed: refused naming both.
 */
export async function generatorOptionsFor(paths: readonly string[]): Promise<{ parameterisation: string; layers: LayerSelection }> {
  type Need = { path: string; parameterisation: string; layers: string[] | 'all' };
  const describe = (n: Need) => `${n.parameterisation} over ${n.layers === 'all' ? 'all layers' : n.layers.join(',')}`;
  let first: Need | undefined;
  for (const path of paths) {
    const file = isNpyFile(path) ? undefined : await readDomainFile(path);
    const own: Need = { path, parameterisation: file ? fileParameterisation(file) : DEFAULT_PARAMETERISATION, layers: file ? file.layers.map((l) => l.name) : 'all' };
    if (!first) first = own;
    else if (own.parameterisation !== first.parameterisation || (first.layers !== 'all' && own.layers !== 'all' && first.layers.join() !== own.layers.join())) {
      throw new Error(`${first.path} (${describe(first)}) and ${path} (${describe(own)}) are for different parameterisations or layers and cannot be mixed`);
    }
  }
  return { parameterisation: first?.parameterisation ?? DEFAULT_PARAMETERISATION, layers: first?.layers ?? 'all' };
}
