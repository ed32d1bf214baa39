// `ganvec models`: list, describe, download, locate and verify the registered pretrained checkpoints.
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import {
  cachedModelPath, checkFile, DEFAULT_MAX_BYTES, fetchDomainFile, fetchModel, formatBytes, ganvecHome, isUrl, loadRegistry, MODEL_KINDS,
  readRecordedSha256, recordedHashPath, type Registry, type RegistryEntry,
} from '../registry/index.js';
import { downloadProgress } from './progress.js';
import { UsageError } from './run.js';

const CACHE_HELP = `
Files are cached in $GANVEC_HOME (default: ~/.cache/ganvec), one folder per kind: generator/, clip/, perceptual/, encoder/.
Any command that takes a model also accepts the path of a local checkpoint file instead of a name.
GANVEC_OFFLINE=1 forbids network access; GANVEC_REGISTRY=file.json replaces the bundled registry.

Examples:
  ganvec models list --kind generator
  ganvec models info ffhq
  ganvec models download ffhq ViT-B/32
  ganvec models verify`;

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description('List, download, locate and verify pretrained checkpoints (StyleGAN2 generators and CLIP models)')
    .addHelpText('after', CACHE_HELP);

  models
    .command('list')
    .description('Show the registered models and whether each one is downloaded')
    .addOption(new Option('--kind <kind>', 'only this kind').choices(MODEL_KINDS))
    .option('--json', 'print the registry entries as JSON, with their cache paths')
    .action((options: { kind?: string; json?: boolean }) => {
      const registry = loadRegistry();
      const entries = registry.entries.filter((e) => !options.kind || e.kind === options.kind);
      if (options.json) {
        const out = entries.map((e) => ({ ...e, path: cachedModelPath(e), cached: existsSync(cachedModelPath(e)) }));
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const rows = entries.map((e) => [
        e.name,
        e.kind,
        String(e.resolution),
        e.bytes !== null ? formatBytes(e.bytes) : '?',
        existsSync(cachedModelPath(e)) ? 'yes' : '-',
        shortLicence(e.licence),
        e.aliases.join(', '),
      ]);
      process.stdout.write(table([['NAME', 'KIND', 'RES', 'SIZE', 'CACHED', 'LICENCE', 'ALIASES'], ...rows]));
      process.stdout.write(`\ncache: ${ganvecHome()}\nmore: ganvec models info NAME\n`);
    });

  models
    .command('info')
    .description('Show everything known about one model: source URL, size, sha256, licence, cache path')
    .argument('<name>', 'registered name or alias')
    .option('--json', 'print as JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      const entry = findOrFail(loadRegistry(), name);
      const path = cachedModelPath(entry);
      const recorded = entry.sha256 === null ? await readRecordedSha256(path) : null;
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...entry, path, cached: existsSync(path), recordedSha256: recorded }, null, 2)}\n`);
        return;
      }
      const sha256 =
        entry.sha256 ?? (recorded ? `${recorded} (recorded at the first download; none is published)` : 'none published (recorded at the first download)');
      const rows = [
        ['name', entry.name],
        ['aliases', entry.aliases.join(', ') || '-'],
        ['kind', `${entry.kind}, ${entry.format}, ${entry.resolution} px`],
        [
          'size',
          entry.bytes !== null
            ? `${entry.bytes.toLocaleString('en-US')} bytes (${formatBytes(entry.bytes)})`
            : `not published (a download is cut off at ${formatBytes(DEFAULT_MAX_BYTES)})`,
        ],
        ['sha256', sha256],
        ['url', entry.url],
        ...entry.mirrors.map((mirror) => ['mirror', mirror]),
        ['licence', entry.licence],
        ['about', entry.description],
        ['cache', `${path} (${existsSync(path) ? 'downloaded' : 'not downloaded'})`],
      ];
      process.stdout.write(table(rows));
    });

  models
    .command('download')
    .description('Download models into the cache, resuming a partial download and verifying size and sha256')
    .argument('<names...>', 'registered names or aliases, or https URLs of domain files (optionally #sha256=<hex>)')
    .action(async (names: string[]) => {
      const registry = loadRegistry();
      const entries = names.filter((name) => !isUrl(name)).map((name) => findOrFail(registry, name));
      for (const url of names.filter(isUrl)) {
        const result = await fetchDomainFile(url, downloadProgress());
        process.stdout.write(`${url}: ${result.downloaded ? 'downloaded' : 'already downloaded and verified'}: ${result.path}\n`);
      }
      for (const entry of entries) {
        const result = await fetchModel(entry, downloadProgress()).catch((err: Error) => {
          const path = cachedModelPath(entry);
          const hash = entry.sha256 ? ` and check that its sha256 is ${entry.sha256}` : '';
          throw new Error(`${entry.name}: ${err.message}\nTo do it by hand: download ${entry.url}, save it as ${path}${hash}`, {
            cause: err,
          });
        });
        const how = result.downloaded ? 'downloaded' : 'already downloaded and verified';
        process.stdout.write(`${entry.name}: ${how}: ${result.path}\n`);
      }
    });

  models
    .command('path')
    .description('Print where a model is (or belongs) in the cache; exits 1 if it is not downloaded')
    .argument('<name>', 'registered name or alias')
    .action((name: string) => {
      const entry = findOrFail(loadRegistry(), name);
      const path = cachedModelPath(entry);
      process.stdout.write(`${path}\n`);
      if (!existsSync(path)) {
        process.stderr.write(`ganvec: ${entry.name} is not downloaded yet: run \`ganvec models download ${name}\` or put the file there\n`);
        process.exitCode = 1;
      }
    });

  models
    .command('verify')
    .description('Re-hash cached files against the published (or first-download) sha256; exits 1 on a mismatch')
    .argument('[names...]', 'registered names or aliases (default: every downloaded model)')
    .action(async (names: string[]) => {
      const registry = loadRegistry();
      const named = names.length > 0;
      const entries = named ? names.map((name) => findOrFail(registry, name)) : registry.entries;
      const counts = { ok: 0, mismatch: 0, missing: 0, unverified: 0 };
      for (const entry of entries) {
        const { status, detail } = await verifyCached(entry);
        counts[status]++;
        if (status === 'missing' && !named) continue;
        process.stdout.write(`${status.padEnd(10)} ${entry.name}  ${detail}\n`);
      }
      const notDownloaded = named ? '' : `; ${counts.missing} registered models are not downloaded`;
      process.stdout.write(`${counts.ok} ok, ${counts.mismatch} mismatch, ${counts.unverified} unverified${notDownloaded}\n`);
      if (counts.mismatch > 0 || (named && counts.missing > 0)) process.exitCode = 1;
    });
}

async function verifyCached(entry: RegistryEntry): Promise<{ status: 'ok' | 'mismatch' | 'missing' | 'unverified'; detail: string }> {
  const path = cachedModelPath(entry);
  const expected = entry.sha256 ?? (await readRecordedSha256(path));
  // A new process: checkFile hashes the file rather than trusting an earlier check.
  const check = await checkFile(path, expected, entry.bytes);
  switch (check.state) {
    case 'missing':
      return { status: 'missing', detail: `${path} (fix: ganvec models download ${entry.name})` };
    case 'size':
      return { status: 'mismatch', detail: `${path}: ${check.bytes} bytes, expected ${entry.bytes} (fix: delete it and download again)` };
    case 'hash': {
      const source = entry.sha256 ? 'published' : `recorded in ${recordedHashPath(path)}`;
      return { status: 'mismatch', detail: `${path}: sha256 ${check.sha256}, expected ${expected} (${source})` };
    }
    case 'ok':
      if (expected !== null) return { status: 'ok', detail: path };
      return { status: 'unverified', detail: `${path}: sha256 ${check.sha256}, but none is published or recorded to compare with` };
  }
}

function findOrFail(registry: Registry, name: string): RegistryEntry {
  const entry = registry.find(name);
  if (entry) return entry;
  const close = registry.closeNames(name);
  const hint = close.length > 0 ? ` Close names: ${close.join(', ')}.` : '';
  throw new UsageError(`no registered model is called "${name}".${hint} See \`ganvec models list\`.`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => `${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`).join('');
}

/** A licence as a table cell: its name, and whether it forbids commercial use (the full text: `models info`). */
function shortLicence(licence: string): string {
  const name = licence.split(' (')[0]!;
  return /non-commercial/i.test(licence) ? `${name} (non-commercial)` : name;
}
