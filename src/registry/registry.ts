// The registry of known checkpoints (pretrained/registry.json): loading, validation and lookup by name or alias.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MultiLineError } from '../io/errors.js';

export const MODEL_KINDS = ['generator', 'clip', 'perceptual', 'encoder'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

const FORMATS_BY_KIND = {
  generator: ['rosinality-pt', 'nvidia-pkl', 'pytorch-gan-zoo'],
  clip: ['openai-clip-jit', 'hf-clip'],
  // LPIPS-VGG16: torchvision's ImageNet trunk and PerceptualSimilarity's lin layers, two files.
  perceptual: ['torchvision-vgg16', 'lpips-lin'],
  // Inversion encoders: encoder4editing's training checkpoints (pSp with Encoder4Editing).
  encoder: ['e4e-psp'],
} as const;
export type ModelFormat = (typeof FORMATS_BY_KIND)[ModelKind][number];

export interface RegistryEntry {
  /** Canonical name; also the cached file's base name, so it is restricted to `[a-z0-9._-]`. */
  name: string;
  aliases: string[];
  kind: ModelKind;
  format: ModelFormat;
  /** Generator output size, or CLIP or encoder input size, in pixels. */
  resolution: number;
  url: string;
  /** Other URLs serving the same bytes; only allowed with a sha256, which is what makes them interchangeable. */
  mirrors: string[];
  /** Exact size in bytes, or null where none is published. */
  bytes: number | null;
  /** Lower-case hex SHA-256, or null where none is published (recorded on first download instead). */
  sha256: string | null;
  /**
   * The leading hex digits of the SHA-256 where only they are published: torch.hub's file names end in
   * them (`…-6196db68.pth`). The first download must start with them; its full hash is then recorded.
   */
  sha256Prefix?: string | null;
  licence: string;
  description: string;
}

export interface Registry {
  /** Where the registry was read from, for error messages. */
  source: string;
  entries: readonly RegistryEntry[];
  /** Case-insensitive lookup by name or alias. */
  find(nameOrAlias: string): RegistryEntry | undefined;
  /** Registered names and aliases that look like `query` (typos, partial names), best first. */
  closeNames(query: string, limit?: number): string[];
}

/** `GANVEC_REGISTRY` (a JSON file) replaces the bundled registry: for tests, mirrors and private checkpoints. */
export function registryPath(): string {
  return process.env.GANVEC_REGISTRY || fileURLToPath(new URL('../../pretrained/registry.json', import.meta.url));
}

export function loadRegistry(file = registryPath()): Registry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the model registry ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`the model registry ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseRegistry(json, file);
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const SHA256_PREFIX_PATTERN = /^[0-9a-f]{8,63}$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Validates the whole document and reports every problem at once, so a broken registry is fixed in one pass. */
export function parseRegistry(json: unknown, source: string): Registry {
  const problems: string[] = [];
  const models = isRecord(json) && Array.isArray(json.models) ? json.models : undefined;
  if (!models) throw new Error(`the model registry ${source} must be an object with a "models" array`);

  const entries: RegistryEntry[] = [];
  const owners = new Map<string, string>();
  models.forEach((raw, index) => {
    const where = isRecord(raw) && typeof raw.name === 'string' ? `"${raw.name}"` : `#${index}`;
    const problem = (what: string) => problems.push(`${where}: ${what}`);
    const entryProblems: string[] = [];
    const entry = parseEntry(raw, (what) => entryProblems.push(what));
    entryProblems.forEach(problem);
    if (!entry || entryProblems.length > 0) return;
    for (const key of [entry.name, ...entry.aliases]) {
      const folded = key.toLowerCase();
      const owner = owners.get(folded);
      if (owner !== undefined) problem(`name or alias "${key}" is already used by "${owner}"`);
      else owners.set(folded, entry.name);
    }
    entries.push(entry);
  });
  if (problems.length > 0) {
    throw new MultiLineError([`the model registry ${source} is invalid:`, ...problems.map((p) => `  ${p}`)]);
  }
  return makeRegistry(entries, source);
}

/** Reports each problem through `problem`; the result is meaningful only when none was reported. */
function parseEntry(raw: unknown, problem: (what: string) => void): RegistryEntry | undefined {
  if (!isRecord(raw)) {
    problem('must be an object');
    return undefined;
  }
  const text = (key: string): string => {
    const value = raw[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
    problem(`"${key}" must be a non-empty string`);
    return '';
  };
  const name = text('name');
  if (name && !NAME_PATTERN.test(name)) problem(`name must match ${NAME_PATTERN} (it names the cached file)`);
  const aliases = raw.aliases ?? [];
  if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === 'string' && a.trim() !== '')) {
    problem('"aliases" must be an array of non-empty strings');
  }
  const kind = raw.kind as ModelKind;
  const format = raw.format as ModelFormat;
  if (!MODEL_KINDS.includes(kind)) problem(`"kind" must be one of ${MODEL_KINDS.join(', ')}`);
  else if (!(FORMATS_BY_KIND[kind] as readonly string[]).includes(format)) {
    problem(`"format" of a ${kind} must be one of ${FORMATS_BY_KIND[kind].join(', ')}`);
  }
  if (!isPositiveInteger(raw.resolution)) problem('"resolution" must be a positive integer');
  if (raw.bytes !== null && !isPositiveInteger(raw.bytes)) problem('"bytes" must be a positive integer or null');
  const sha256 = raw.sha256;
  if (sha256 !== null && !(typeof sha256 === 'string' && SHA256_PATTERN.test(sha256))) {
    problem('"sha256" must be 64 lower-case hex digits or null (never a guess)');
  }
  const url = text('url');
  checkUrl(url, problem);
  const sha256Prefix = raw.sha256Prefix ?? null;
  if (sha256Prefix !== null) {
    if (!(typeof sha256Prefix === 'string' && SHA256_PREFIX_PATTERN.test(sha256Prefix))) problem('"sha256Prefix" must be 8 to 63 lower-case hex digits');
    else if (sha256 !== null) problem('"sha256Prefix" is for entries whose full sha256 is not published: give one of the two');
    else if (!url.split('/').at(-1)!.includes(`-${sha256Prefix}.`)) problem('"sha256Prefix" is not the hash in its URL\'s file name (name-<prefix>.ext)');
  }
  const mirrors = raw.mirrors ?? [];
  if (!Array.isArray(mirrors) || !mirrors.every((m) => typeof m === 'string')) problem('"mirrors" must be an array of URLs');
  else {
    for (const mirror of mirrors) checkUrl(mirror, problem);
    if (mirrors.length > 0 && sha256 === null) problem('"mirrors" need a sha256: nothing else proves two URLs serve the same file');
  }
  // OpenAI's CLIP URLs carry the file's sha256 as a path segment: a mismatch is a copy-paste error.
  const hashInUrl = url.split('/').find((segment) => SHA256_PATTERN.test(segment));
  if (hashInUrl && typeof sha256 === 'string' && hashInUrl !== sha256) problem('"sha256" differs from the hash in its URL');
  const licence = text('licence');
  const description = text('description');
  if (description.includes('\n')) problem('"description" must be one line');
  return {
    name,
    aliases: aliases as string[],
    kind,
    format,
    resolution: raw.resolution as number,
    url,
    mirrors: mirrors as string[],
    bytes: raw.bytes as number | null,
    sha256: sha256 as string | null,
    sha256Prefix: sha256Prefix as string | null,
    licence,
    description,
  };
}

function checkUrl(url: string, problem: (what: string) => void): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    problem(`"${url}" is not a URL`);
    return;
  }
  // Plain http only for loopback: lets tests and local mirrors use a throwaway server.
  const ok = parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname));
  if (!ok) problem(`"${url}" must be an https URL`);
}

function makeRegistry(entries: RegistryEntry[], source: string): Registry {
  const byKey = new Map<string, RegistryEntry>();
  for (const entry of entries) {
    for (const key of [entry.name, ...entry.aliases]) byKey.set(key.toLowerCase(), entry);
  }
  return {
    source,
    entries,
    find: (nameOrAlias) => byKey.get(nameOrAlias.toLowerCase()),
    closeNames(query, limit = 5) {
      const q = query.toLowerCase();
      const scored: Array<{ key: string; score: number }> = [];
      for (const entry of entries) {
        for (const key of [entry.name, ...entry.aliases]) {
          const k = key.toLowerCase();
          // A typo is a small edit of the whole key or of one of its parts ("pixr" → nada-pixar);
          // a fragment ("church", "b-32") is a substring.
          const distance = Math.min(editDistance(q, k), ...k.split(/[-/@_.]/).map((part) => editDistance(q, part)));
          const near = distance <= Math.max(1, Math.floor(q.length / 4));
          if (near || (q.length >= 3 && k.includes(q))) scored.push({ key, score: near ? distance : 100 + k.length });
        }
      }
      scored.sort((a, b) => a.score - b.score || a.key.length - b.key.length || a.key.localeCompare(b.key));
      return [...new Set(scored.map((s) => s.key))].slice(0, limit);
    },
  };
}

/** Edit distance counting a swap of two adjacent characters as one edit (the commonest typo). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
