// Turns what a user typed for a model (a file path, or a registry name or alias) into a local file,
// downloading registered models into the cache when allowed.
import { homedir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { MultiLineError } from '../io/errors.js';
import { downloadFile, formatBytes, type DownloadResult, type DownloadSettings } from './download.js';
import { checkFile, readRecordedSha256, recordedHashPath, statOrUndefined, type FileCheck } from './verify.js';
import { loadRegistry, type ModelKind, type Registry, type RegistryEntry } from './registry.js';

export interface ResolvedModel {
  path: string;
  /** Present when the model came from the registry. */
  entry?: RegistryEntry;
}

export interface ResolveModelOptions extends DownloadSettings {
  kind: ModelKind;
  /** Whether a registered model missing from the cache may be downloaded now. */
  download: boolean;
  registry?: Registry;
  /** Cache root; defaults to ganvecHome(). */
  home?: string;
}

/** The cache root: `GANVEC_HOME`, else `~/.cache/ganvec`. */
export function ganvecHome(): string {
  return process.env.GANVEC_HOME || join(homedir(), '.cache', 'ganvec');
}

/**
 * Where a registered model lives in the cache: one folder per kind, the file named after the entry
 * (not the URL's file name, which is ambiguous: two different files are called stylegan2-ffhq-config-f.pt).
 */
export function cachedModelPath(entry: RegistryEntry, home = ganvecHome()): string {
  const extension = extname(new URL(entry.url).pathname) || '.bin';
  return join(home, entry.kind, `${entry.name}${extension}`);
}

export interface FetchModelOptions extends DownloadSettings {
  home?: string;
}

/** Downloads a registered model into the cache (a verified file already there is kept), telling its licence first. */
export async function fetchModel(entry: RegistryEntry, options: FetchModelOptions = {}): Promise<DownloadResult> {
  const { home, ...settings } = options;
  const log = settings.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  return downloadFile({
    ...settings,
    log,
    url: entry.url,
    mirrors: entry.mirrors,
    dest: cachedModelPath(entry, home),
    sha256: entry.sha256,
    sha256Prefix: entry.sha256Prefix,
    bytes: entry.bytes,
    label: entry.name,
    onTransferStart() {
      const size = entry.bytes !== null ? `, ${formatBytes(entry.bytes)}` : '';
      log(`Downloading ${entry.name} (${entry.kind}${size}) from ${new URL(entry.url).host}`);
      log(`  licence: ${entry.licence}. Use it only under its terms.`);
    },
  });
}

/**
 * An existing file path always wins; otherwise a registry name or alias resolves to its cached file,
 * downloaded first when `download` is true. Failures explain exactly how to get the file.
 */
export async function resolveModel(nameOrPath: string, options: ResolveModelOptions): Promise<ResolvedModel> {
  const { kind, download, registry: given, home, ...settings } = options;
  const local = await statOrUndefined(nameOrPath);
  if (local?.isFile()) return { path: resolve(nameOrPath) };
  if (local?.isDirectory()) throw new Error(`${nameOrPath} is a directory: pass the ${kind} checkpoint file inside it`);

  const registry = given ?? loadRegistry();
  const entry = registry.find(nameOrPath);
  if (!entry) throw unknownModelError(nameOrPath, kind, registry);
  if (entry.kind !== kind) {
    throw new Error(`"${nameOrPath}" is a ${entry.kind} model (${entry.name}), but ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} is needed here`);
  }

  const path = cachedModelPath(entry, home);
  const expected = entry.sha256 ?? (await readRecordedSha256(path));
  const cached = await checkFile(path, expected, entry.bytes);
  if (cached.state === 'ok') return { path, entry };

  const problem = cachedFileProblem(cached, entry, path, expected);
  if (!download) throw new MultiLineError(missingModelLines(nameOrPath, entry, path, problem));
  try {
    await fetchModel(entry, { ...settings, home });
  } catch (err) {
    throw new MultiLineError(missingModelLines(nameOrPath, entry, path, `it could not be downloaded: ${(err as Error).message}`), {
      cause: err,
    });
  }
  return { path, entry };
}

function cachedFileProblem(cached: Exclude<FileCheck, { state: 'ok' }>, entry: RegistryEntry, path: string, expected: string | null): string {
  switch (cached.state) {
    case 'missing':
      return 'it is not downloaded yet';
    case 'size':
      return `the cached file has ${cached.bytes} bytes instead of ${entry.bytes}`;
    case 'hash': {
      const source = entry.sha256 !== null ? 'published' : `recorded (in ${recordedHashPath(path)})`;
      return `the cached file's sha256 is ${cached.sha256}, not the ${source} ${expected}`;
    }
  }
}

function missingModelLines(asked: string, entry: RegistryEntry, path: string, problem: string): string[] {
  const named = asked === entry.name ? entry.name : `"${asked}" (${entry.name})`;
  const facts = [entry.sha256 && `sha256 ${entry.sha256}`, entry.bytes !== null && `${entry.bytes} bytes`].filter(Boolean);
  const check = facts.length > 0 ? ` (${facts.join(', ')})` : '';
  return [
    `the ${entry.kind} ${named} is missing: ${problem}.`,
    `The file belongs at ${path}`,
    'To fix it, do one of:',
    `  - run \`ganvec models download ${asked}\` on a machine with internet access (copy ${path} over if that is another machine)`,
    `  - download ${entry.url} yourself and save it as ${path}${check}`,
    `  - pass the path of a local ${entry.kind} checkpoint instead of "${asked}"`,
  ];
}

function unknownModelError(asked: string, kind: ModelKind, registry: Registry): Error {
  const close = registry.closeNames(asked, 20).filter((name) => registry.find(name)?.kind === kind).slice(0, 5);
  const looksLikePath = /[\\/]/.test(asked) || /\.(pt|pkl|pth|bin|onnx|safetensors)$/i.test(asked);
  const what = looksLikePath ? `no such file: ${asked}` : `"${asked}" is neither a file nor a registered ${kind}`;
  const hint = close.length > 0 ? ` Close names: ${close.join(', ')}.` : '';
  return new Error(`${what}.${hint} See \`ganvec models list\` for the registered models.`);
}
