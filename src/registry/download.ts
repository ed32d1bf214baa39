// Downloads one large file into place: redirects, resume, retries, size and sha256 checks, progress
// events (the CLI draws them: cli/progress.ts), and a lock so that concurrent processes never interleave writes to the same partial file. A hostile or
// broken server cannot make it run forever: a body is cut off at the expected size (or at `maxBytes` when
// none is published), a body slower than `minBytesPerSecond` is given up on, and https never falls back to http.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { dirname } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { VERSION } from '../version.js';
import { writeFileAtomic } from '../io/atomic.js';
import { acquireDownloadLock } from './download-lock.js';
import { checkFile, fileSize, hashFile, readRecordedSha256, recordedHashPath, rememberHash } from './verify.js';

export interface DownloadProgress {
  /** The file's short name, as messages give it. */
  label: string;
  /** Bytes of the file on disk so far, including any resumed part. */
  received: number;
  /** Final size, when the server or the caller knows it. */
  total: number | null;
  bytesPerSecond: number;
  etaSeconds: number | null;
}

/** How to download, as opposed to what: shared by every download of a session. */
export interface DownloadSettings {
  /** Attempts after a transient failure that made no progress (one that made progress does not count). */
  retries?: number;
  /** First backoff delay; it doubles with each consecutive failure, up to 30 s. */
  retryDelayMs?: number;
  /** Time allowed to resolve, connect and receive the response headers: short, so no network fails fast. */
  connectTimeoutMs?: number;
  /**
   * Once the body has started, each period of this length must bring `minBytesPerSecond` on average
   * (silence included): otherwise the connection is dropped and the download resumed.
   */
  idleTimeoutMs?: number;
  /**
   * The slowest body accepted. An attempt that averaged less counts as failed even if it brought bytes,
   * so a server that trickles a byte now and then is given up on after `retries` attempts.
   */
  minBytesPerSecond?: number;
  /** The most bytes accepted for a file whose size is not known (`bytes` null), so an endless body stops. */
  maxBytes?: number;
  maxRedirects?: number;
  /** How often a process waiting for another one's download checks the lock. */
  lockPollMs?: number;
  /** A lock whose file has not been touched for this long is abandoned (its holder refreshes it). */
  staleLockMs?: number;
  /** Called as bytes arrive (at most every 100 ms, and once at the end of each attempt). */
  onProgress?: (progress: DownloadProgress) => void;
  /** One-line notices (retries, waiting for another process, a recorded hash). */
  log?: (line: string) => void;
}

export interface DownloadOptions extends DownloadSettings {
  url: string;
  /** Tried in order when `url` answers but does not serve the right file. */
  mirrors?: readonly string[];
  dest: string;
  /** Expected sha256; when null, the first download's hash is recorded beside the file and checked later. */
  sha256?: string | null;
  /** What the sha256 of a first download (no sha256 given or recorded) must start with (torch.hub's file-name hashes). */
  sha256Prefix?: string | null;
  bytes?: number | null;
  /** Short name for messages and the progress bar. */
  label?: string;
  /** Called once when bytes are about to be fetched: not when a verified file is already in place. */
  onTransferStart?: () => void;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  bytes: number;
  /** False when a verified file was already in place (possibly fetched meanwhile by another process). */
  downloaded: boolean;
  /** True when no hash was known and this download's hash was recorded. */
  hashRecorded: boolean;
}

export type DownloadFailure = 'offline' | 'unreachable' | 'http' | 'html' | 'size' | 'hash' | 'redirects' | 'gave-up';

export class DownloadError extends Error {
  constructor(
    readonly reason: DownloadFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DownloadError';
  }
}

/** A failure worth retrying (reset, 5xx, stalled body); never escapes this module. */
class TransientError extends Error {}

/**
 * The largest download of unpublished size (`bytes` null) accepted by default: over twice the largest
 * checkpoint in the registry (OpenAI's ViT-L/14: about 430 million fp16 parameters, under 1 GiB).
 */
export const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;

const NO_ROUTE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ECONNREFUSED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
]);
const RETRYABLE_STATUS = new Set([408, 425, 429]);

/** `GANVEC_OFFLINE=1` turns every download into an immediate, explained failure. */
export function isOffline(): boolean {
  return process.env.GANVEC_OFFLINE === '1';
}

export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const o = withDefaults(options);
  if (isOffline()) {
    throw new DownloadError('offline', `network access is disabled (GANVEC_OFFLINE=1), so ${o.url} was not downloaded`);
  }
  await mkdir(dirname(o.dest), { recursive: true });
  const lock = await acquireDownloadLock(o);
  try {
    const expected = o.sha256 ?? (await readRecordedSha256(o.dest));
    const existing = await checkFile(o.dest, expected, o.bytes);
    if (existing.state === 'ok') {
      return { path: o.dest, sha256: existing.sha256, bytes: existing.bytes, downloaded: false, hashRecorded: false };
    }

    o.onTransferStart?.();
    const urls = [o.url, ...o.mirrors];
    for (let i = 0; ; i++) {
      try {
        return await downloadFrom(urls[i]!, expected, o);
      } catch (err) {
        // Another URL helps only when this one answered wrongly; no network is no network for all of them.
        const answeredWrongly = err instanceof DownloadError && !['offline', 'unreachable'].includes(err.reason);
        if (!answeredWrongly || i + 1 >= urls.length) throw err;
        o.log(`${o.label}: ${err.message}; trying ${urls[i + 1]}`);
      }
    }
  } finally {
    await lock.release();
  }
}

type ResolvedOptions = Required<Omit<DownloadOptions, 'onProgress' | 'onTransferStart' | 'sha256' | 'sha256Prefix' | 'bytes'>> & {
  onProgress: DownloadOptions['onProgress'];
  onTransferStart: DownloadOptions['onTransferStart'];
  sha256: string | null;
  sha256Prefix: string | null;
  bytes: number | null;
};

function withDefaults(options: DownloadOptions): ResolvedOptions {
  return {
    retries: 5,
    retryDelayMs: 1000,
    connectTimeoutMs: 4000,
    idleTimeoutMs: 30_000,
    minBytesPerSecond: 8 * 1024, // 64 kbit/s: slower than any broadband line
    maxBytes: DEFAULT_MAX_BYTES,
    maxRedirects: 10,
    lockPollMs: 250,
    staleLockMs: 60_000,
    log: (line) => process.stderr.write(`${line}\n`),
    label: options.dest.split(/[\\/]/).pop()!,
    mirrors: [],
    ...stripUndefined(options),
    onProgress: options.onProgress,
    onTransferStart: options.onTransferStart,
    sha256: options.sha256 ?? null,
    sha256Prefix: options.sha256Prefix ?? null,
    bytes: options.bytes ?? null,
  };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

async function downloadFrom(url: string, expected: string | null, o: ResolvedOptions): Promise<DownloadResult> {
  const part = `${o.dest}.part`;
  await fetchWithRetries(url, part, o);
  const actual = await hashFile(part);
  if (o.bytes !== null && actual.bytes !== o.bytes) {
    await rm(part, { force: true });
    throw new DownloadError('size', `${url} gave ${actual.bytes} bytes, expected ${o.bytes}; the download was removed`);
  }
  if (expected !== null && actual.sha256 !== expected) {
    await rm(part, { force: true });
    const recorded = o.sha256 === null ? ` (the hash recorded at the first download, in ${recordedHashPath(o.dest)})` : '';
    throw new DownloadError(
      'hash',
      `sha256 mismatch for ${o.label} from ${url}: expected ${expected}${recorded}, got ${actual.sha256}; the download was removed`,
    );
  }
  if (expected === null && o.sha256Prefix !== null && !actual.sha256.startsWith(o.sha256Prefix)) {
    await rm(part, { force: true });
    throw new DownloadError('hash', `sha256 mismatch for ${o.label} from ${url}: expected one starting ${o.sha256Prefix} (the hash in its file name), got ${actual.sha256}; the download was removed`);
  }
  const hashRecorded = expected === null;
  if (hashRecorded) {
    await writeFileAtomic(recordedHashPath(o.dest), `${actual.sha256}  ${o.dest.split(/[\\/]/).pop()}\n`);
    o.log(
      `${o.label}: no sha256 is published for this file; recorded ${actual.sha256} in ${recordedHashPath(o.dest)} and later downloads must match it`,
    );
  }
  await rename(part, o.dest);
  await rememberHash(o.dest, actual.sha256);
  return { path: o.dest, ...actual, downloaded: true, hashRecorded };
}

async function fetchWithRetries(url: string, part: string, o: ResolvedOptions): Promise<void> {
  let failures = 0;
  for (;;) {
    const before = await fileSize(part);
    const started = Date.now();
    try {
      await fetchOnce(url, part, before, o);
      return;
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      const after = await fileSize(part);
      // Progress at the minimum rate earns the attempts back; a trickle must not, or it could go on forever.
      const progressed = after > before && after - before >= (o.minBytesPerSecond * (Date.now() - started)) / 1000;
      failures = progressed ? 0 : failures + 1;
      if (failures > o.retries) {
        throw new DownloadError('gave-up', `gave up on ${url} after ${failures} failed attempts: ${err.message}`, { cause: err });
      }
      const delayMs = Math.min(o.retryDelayMs * 2 ** Math.max(0, failures - 1), 30_000);
      o.log(`${o.label}: ${err.message} at ${formatBytes(after)}; resuming in ${(delayMs / 1000).toFixed(1)} s`);
      await sleep(delayMs);
    }
  }
}

/** One request (with its redirects) that appends to `part` from `offset`. */
async function fetchOnce(url: string, part: string, offset: number, o: ResolvedOptions): Promise<void> {
  if (offset > (o.bytes ?? o.maxBytes)) {
    await rm(part, { force: true });
    offset = 0;
  }
  if (o.bytes !== null && offset === o.bytes) return;

  const { res, finalUrl } = await openFollowingRedirects(url, offset, o);
  let start = 0;
  let offered: number | null = null; // the whole file's size according to this answer
  if (res.statusCode === 206) {
    const range = parseContentRange(res.headers['content-range']);
    if (!range || range.start !== offset) {
      res.resume();
      await rm(part, { force: true });
      throw new TransientError(`${finalUrl} answered with a different byte range than asked; starting over`);
    }
    start = offset;
    offered = range.total;
  } else if (res.statusCode === 200) {
    // A server that ignores Range sends the whole file: start over rather than append a second copy.
    offered = contentLength(res);
  } else if (res.statusCode === 416) {
    res.resume();
    if (parseContentRange(res.headers['content-range'])?.total === offset) return;
    await rm(part, { force: true });
    throw new TransientError(`${finalUrl} refused to resume at byte ${offset}; starting over`);
  } else {
    res.resume();
    const status = `HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim();
    if (res.statusCode! >= 500 || RETRYABLE_STATUS.has(res.statusCode!)) throw new TransientError(`${finalUrl} answered ${status}`);
    throw new DownloadError('http', `${finalUrl} answered ${status}`);
  }

  if (/^text\/html/i.test(res.headers['content-type'] ?? '')) {
    res.resume();
    throw htmlError(finalUrl, 'its content-type is text/html');
  }
  if (o.bytes !== null && offered !== null && offered !== o.bytes) {
    res.resume();
    throw new DownloadError('size', `${finalUrl} offers ${offered} bytes, expected ${o.bytes}`);
  }
  if (o.bytes === null && offered !== null && offered > o.maxBytes) {
    res.resume();
    throw new DownloadError('size', `${finalUrl} offers ${offered} bytes, more than the ${o.maxBytes} allowed for a file of unpublished size`);
  }

  const meter = new Meter(start, o.bytes ?? offered, start === 0, finalUrl, o);
  // Measured per period, not per chunk: a byte every few seconds must not keep a download alive.
  const minimum = (o.minBytesPerSecond * o.idleTimeoutMs) / 1000;
  let counted = 0;
  const rateCheck = setInterval(() => {
    const got = meter.receivedThisAttempt - counted;
    counted = meter.receivedThisAttempt;
    if (got >= minimum) return;
    const host = new URL(finalUrl).host;
    const seconds = o.idleTimeoutMs / 1000;
    const why =
      got === 0
        ? `no data from ${host} for ${seconds} s`
        : `only ${got} bytes came from ${host} in ${seconds} s (the minimum is ${o.minBytesPerSecond} bytes/s)`;
    res.destroy(new TransientError(why));
  }, o.idleTimeoutMs);
  try {
    await pipeline(res, meter, createWriteStream(part, { flags: start === 0 ? 'w' : 'a' }));
  } catch (err) {
    if (err instanceof DownloadError) {
      if (err.reason === 'html' || err.reason === 'size') await rm(part, { force: true });
      throw err;
    }
    throw err instanceof TransientError ? err : new TransientError(`the connection broke (${(err as Error).message})`);
  } finally {
    clearInterval(rateCheck);
    meter.report();
  }
  const length = contentLength(res);
  if (length !== null && meter.receivedThisAttempt < length) {
    throw new TransientError(`the connection closed after ${meter.receivedThisAttempt} of ${length} bytes`);
  }
}

function htmlError(url: string, evidence: string): DownloadError {
  return new DownloadError(
    'html',
    `the host answered with a web page instead of the file (${evidence}): ${url}. ` +
      'This is typically a Google Drive virus-scan warning, a login page or a quota page; fetch the file in a browser and pass its path',
  );
}

function contentLength(res: IncomingMessage): number | null {
  const header = res.headers['content-length'];
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : null;
}

function parseContentRange(header: string | undefined): { start: number | null; total: number | null } | undefined {
  const match = /^bytes (?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (!match) return undefined;
  return {
    start: match[1] === undefined ? null : Number(match[1]),
    total: match[2] === '*' ? null : Number(match[2]),
  };
}

async function openFollowingRedirects(
  url: string,
  offset: number,
  o: ResolvedOptions,
): Promise<{ res: IncomingMessage; finalUrl: string }> {
  const headers: Record<string, string> = {
    'user-agent': `ganvec/${VERSION}`,
    'accept-encoding': 'identity',
    ...(offset > 0 ? { range: `bytes=${offset}-` } : {}),
  };
  let current = url;
  for (let hops = 0; ; hops++) {
    const res = await requestOnce(new URL(current), headers, o);
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.statusCode!) || !location) return { res, finalUrl: current };
    res.resume();
    if (hops >= o.maxRedirects) throw new DownloadError('redirects', `more than ${o.maxRedirects} redirects starting at ${url}`);
    const next = new URL(location, current);
    // Plain http would let anyone on the path replace the file (and, without a published hash, go unnoticed).
    if (new URL(current).protocol === 'https:' && next.protocol === 'http:') {
      throw new DownloadError('redirects', `${current} redirects to plain http (${next.href}); refusing an unencrypted download`);
    }
    current = next.href;
  }
}

function requestOnce(url: URL, headers: Record<string, string>, o: ResolvedOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      reject(new DownloadError('http', `cannot download ${url.href}: only http and https are supported`));
      return;
    }
    const client = url.protocol === 'https:' ? https : http;
    // agent: false — no pooled keep-alive socket may hold the process open after the download.
    const req = client.get(url, { headers, agent: false }, (res) => {
      clearTimeout(answerTimer);
      resolve(res);
    });
    let connected = false;
    req.on('socket', (socket) => socket.once('connect', () => (connected = true)));
    // Covers DNS, connect, TLS and the wait for headers: all of it must fit, so no network fails in seconds.
    const answerTimer = setTimeout(() => {
      const seconds = o.connectTimeoutMs / 1000;
      const what = connected ? `accepted the connection but did not answer within ${seconds} s` : `could not be reached within ${seconds} s`;
      req.destroy(new DownloadError('unreachable', `${url.host} ${what} (${url.href})${proxyNote()}`));
    }, o.connectTimeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(answerTimer);
      reject(classifyRequestError(err, url));
    });
  });
}

// Node 20's http client ignores proxy variables; someone who relies on one needs to know why nothing connects.
function proxyNote(): string {
  const proxy = process.env.HTTPS_PROXY || process.env.https_proxy || process.env.HTTP_PROXY || process.env.http_proxy;
  return proxy ? ' (ganvec does not use HTTPS_PROXY/HTTP_PROXY: fetch the file through the proxy by hand)' : '';
}

function classifyRequestError(err: NodeJS.ErrnoException, url: URL): Error {
  if (err instanceof DownloadError || err instanceof TransientError) return err;
  if (err.code && NO_ROUTE_CODES.has(err.code)) {
    return new DownloadError('unreachable', `cannot reach ${url.host} (${err.code}: ${err.message})${proxyNote()}`, { cause: err });
  }
  if (err.code && /CERT|TLS|SSL|SELF_SIGNED|VERIFY|EPROTO/.test(err.code)) {
    return new DownloadError('unreachable', `TLS problem talking to ${url.host}: ${err.message}${proxyNote()}`, { cause: err });
  }
  return new TransientError(`the request to ${url.host} failed (${err.code ?? err.message})`);
}

/** Counts bytes, reports progress, stops a body longer than allowed, and rejects an HTML page before any of it reaches the disk. */
class Meter extends Transform {
  receivedThisAttempt = 0;
  private head: Buffer[] | undefined;
  private readonly startedAt = Date.now();
  private lastReport = 0;

  constructor(
    private readonly start: number,
    private readonly total: number | null,
    sniff: boolean,
    private readonly url: string,
    private readonly o: ResolvedOptions,
  ) {
    super();
    this.head = sniff ? [] : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.receivedThisAttempt += chunk.length;
    if (this.start + this.receivedThisAttempt > (this.o.bytes ?? this.o.maxBytes)) return done(this.tooLong());
    // Reporting every chunk would cost more than the download.
    if (Date.now() - this.lastReport >= 100) this.report();
    if (!this.head) return done(null, chunk);
    this.head.push(chunk);
    if (this.receivedThisAttempt < 64) return done();
    this.releaseHead(done);
  }

  override _flush(done: TransformCallback): void {
    if (this.head) this.releaseHead(done);
    else done();
  }

  private tooLong(): DownloadError {
    const limit =
      this.o.bytes !== null ? `the expected ${this.o.bytes} bytes` : `${this.o.maxBytes} bytes, the most allowed for a file of unpublished size`;
    return new DownloadError('size', `${this.url} sent more than ${limit}; the download was removed`);
  }

  private releaseHead(done: TransformCallback): void {
    const head = Buffer.concat(this.head!);
    this.head = undefined;
    if (/^\s*<(!doctype|html)/i.test(head.subarray(0, 64).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, ''))) {
      return done(htmlError(this.url, 'it starts like an HTML document'));
    }
    done(null, head);
  }

  report(): void {
    this.lastReport = Date.now();
    const seconds = (Date.now() - this.startedAt) / 1000;
    const received = this.start + this.receivedThisAttempt;
    const bytesPerSecond = seconds > 0 ? this.receivedThisAttempt / seconds : 0;
    const etaSeconds = this.total !== null && bytesPerSecond > 0 ? Math.max(0, this.total - received) / bytesPerSecond : null;
    this.o.onProgress?.({ label: this.o.label, received, total: this.total, bytesPerSecond, etaSeconds });
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

