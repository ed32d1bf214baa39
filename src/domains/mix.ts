/**
 * Mixing domain files: Σ weightᵢ · vectorᵢ over files trained on the same generator, parameterisation and
 * layers, written as a domain file that names its parents (file name, sha256, weight). `a.dv.safetensors:0.7`
 * is how a command line says "this file at weight 0.7".
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { isNpyFile } from '../io/npy.js';
import { fileParameterisation, loadDomainVector, readDomainFile, type DomainFile, type DomainTarget } from './domain-file.js';
import { mixDomainVectors } from './weighted-sum.js';

export interface WeightedDomain {
  /** A domain file (or, where a generator checks it, a raw flat .npy). */
  path: string;
  weight: number;
  /** Where `path` came from, when it is a downloaded copy (the URL): what a mix names as the parent. */
  source?: string;
}

/** One parent of a mixed domain file, as its `parents` metadata lists them. */
export interface DomainParent {
  name: string;
  sha256: string;
  weight: number;
}

/**
 * `file:weight` → { path, weight }; without a `:number` suffix the weight is 1. Only a trailing decimal
 * number counts, so `C:\x.dv.safetensors` and `https://host:8443/x.dv.safetensors` keep their colons.
 */
export function parseDomainSpec(spec: string): WeightedDomain {
  const match = /^(.+):([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)$/i.exec(spec);
  if (!match) return { path: spec, weight: 1 };
  return { path: match[1]!, weight: Number(match[2]) };
}

/** Σ weightᵢ · vectorᵢ of domain files, each checked to belong to `generator` (loadDomainVector). */
export async function loadWeightedDomains(parts: readonly WeightedDomain[], generator: DomainTarget): Promise<Float32Array> {
  const vectors = await Promise.all(parts.map((p) => loadDomainVector(p.path, generator)));
  return mixDomainVectors(vectors, parts.map((p) => p.weight));
}

/**
 * The mix of domain files as a new domain file (write it with writeDomainFile): the exact weighted sum in
 * float64 rounded once to float32, with `parents` metadata. Files trained on other weights, as other
 * parameterisations or over other layers are refused naming both files.
 */
export async function mixDomainFiles(parts: readonly WeightedDomain[]): Promise<DomainFile> {
  if (parts.length === 0) throw new Error('mix: no domain files given');
  const files: Array<{ path: string; name: string; file: DomainFile; sha256: string }> = [];
  for (const { path, source } of parts) {
    if (isNpyFile(path)) throw new Error(`${path}: a raw .npy does not say which generator it is for, so it cannot be mixed into a domain file; use .dv.safetensors files`);
    const file = await readDomainFile(path);
    files.push({ path, name: source ?? basename(path), file, sha256: createHash('sha256').update(await readFile(path)).digest('hex') });
  }
  const first = files[0]!;
  const layersOf = (f: DomainFile) => f.layers.map((l) => `${l.name}:${l.dim}`).join(' ');
  for (const other of files.slice(1)) {
    const a = first.file.metadata;
    const b = other.file.metadata;
    const refuse = (what: string, mine: string, theirs: string) =>
      new Error(`${first.path} and ${other.path} cannot be mixed: they are for different ${what} (${mine} vs ${theirs})`);
    if (a.base_fingerprint !== b.base_fingerprint) {
      throw refuse('generators', `${a.base_model}, fingerprint ${a.base_fingerprint}`, `${b.base_model}, fingerprint ${b.base_fingerprint}`);
    }
    if (fileParameterisation(first.file) !== fileParameterisation(other.file)) {
      throw refuse('parameterisations', fileParameterisation(first.file), fileParameterisation(other.file));
    }
    if (layersOf(first.file) !== layersOf(other.file)) throw refuse('layers', layersOf(first.file), layersOf(other.file));
  }
  const weights = parts.map((p) => p.weight);
  const parents: DomainParent[] = files.map(({ name, sha256 }, i) => ({ name, sha256, weight: weights[i]! }));
  return {
    vector: mixDomainVectors(files.map((f) => f.file.vector), weights),
    layers: first.file.layers,
    metadata: {
      base_model: first.file.metadata.base_model!,
      base_fingerprint: first.file.metadata.base_fingerprint!,
      parameterisation: fileParameterisation(first.file),
      parents: JSON.stringify(parents),
    },
  };
}
