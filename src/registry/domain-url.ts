/**
 * Domain files by https URL: downloaded once into the cache (`<home>/domains/<url hash>/<file name>`),
 * verified against an optional `#sha256=<hex>` pin in the URL or, without one, the hash recorded at the
 * first download (as registered models without a published hash), and checked to be a domain file.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readDomainFile } from '../domains/domain-file.js';
import { DownloadError, downloadFile, type DownloadSettings } from './download.js';
import { ganvecHome } from './resolve-model.js';
import { checkFile, readRecordedSha256, recordedHashPath } from './verify.js';

/** A domain file is tens of KB; a URL serving more than this is not one. */
const MAX_DOMAIN_BYTES = 64 * 1024 ** 2;

export interface FetchDomainOptions extends DownloadSettings {
  /** Cache root; defaults to ganvecHome(). */
  home?: string;
}

export function isUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
}

/** The URL to fetch and its `#sha256=` pin (null when it has none). */
export function parseDomainUrl(text: string): { url: string; sha256: string | null } {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new Error(`${text}: not a valid URL`);
  }
  if (parsed.protocol !== 'https:') throw new Error(`${text}: domain files are fetched over https only, not ${parsed.protocol.slice(0, -1)}`);
  const fragment = parsed.hash.slice(1);
  parsed.hash = '';
  if (fragment === '') return { url: parsed.href, sha256: null };
  const pin = /^sha256=([0-9a-fA-F]{64})$/.exec(fragment);
  if (!pin) throw new Error(`${text}: the only URL fragment understood is #sha256=<64 hex digits>, got #${fragment}`);
  return { url: parsed.href, sha256: pin[1]!.toLowerCase() };
}

/** Where a URL's domain file is cached: one folder per URL (without its pin), the file keeping its name. */
export function cachedDomainPath(url: string, home = ganvecHome()): string {
  const { url: bare } = parseDomainUrl(url);
  const name = basename(new URL(bare).pathname) || 'domain.dv.safetensors';
  return join(home, 'domains', createHash('sha256').update(bare).digest('hex').slice(0, 16), name);
}

/**
 * The local path of the domain file at `text` (an https URL, optionally pinned): the cached copy when it
 * verifies (no network needed), else downloaded now. A file that is not a domain file is removed again.
 */
export async function fetchDomainFile(text: string, options: FetchDomainOptions = {}): Promise<{ path: string; sha256: string; downloaded: boolean }> {
  const { home, ...settings } = options;
  const { url, sha256: pin } = parseDomainUrl(text);
  const dest = cachedDomainPath(url, home);
  const cached = await checkFile(dest, pin ?? (await readRecordedSha256(dest)), null);
  if (cached.state === 'ok') return { path: dest, sha256: cached.sha256, downloaded: false };

  let result;
  try {
    result = await downloadFile({ maxBytes: MAX_DOMAIN_BYTES, ...settings, url, dest, sha256: pin, label: basename(dest) });
  } catch (err) {
    const why = err instanceof DownloadError && err.reason === 'hash' && pin ? `it does not match the #sha256 pin: ${err.message}` : (err as Error).message;
    throw new Error(`domain ${text}: could not be fetched: ${why}`, { cause: err });
  }
  try {
    await readDomainFile(dest);
  } catch (err) {
    await rm(dest, { force: true });
    await rm(recordedHashPath(dest), { force: true });
    throw new Error(`domain ${text}: not a usable domain file (${(err as Error).message.replace(`${dest}: `, '')}); the download was removed`, { cause: err });
  }
  return { path: dest, sha256: result.sha256, downloaded: result.downloaded };
}
