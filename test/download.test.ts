import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { downloadProgress } from '../src/cli/progress.js';
import { DownloadError, downloadFile, type DownloadOptions } from '../src/registry/download.js';
import { closedPort, fakeCheckpoint, serveBytes, startServer, TEST_CERTIFICATE, type TestServer } from './fixtures/download/server.js';

const run = promisify(execFile);
const checkpoint = fakeCheckpoint(300_000);
const quiet = { log: () => undefined, retryDelayMs: 5, lockPollMs: 20 };

let dir: string;
let server: TestServer | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-download-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

let fileCount = 0;
function destination(): string {
  return join(dir, `case-${++fileCount}`, 'model.pt');
}

function options(url: string, extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { ...quiet, url, dest: destination(), sha256: checkpoint.sha256, bytes: checkpoint.bytes.length, ...extra };
}

async function assertOnlyResult(dest: string): Promise<void> {
  assert.deepEqual(await readFile(dest), checkpoint.bytes);
  const leftovers = (await readdir(join(dest, '..'))).filter((name) => name !== 'model.pt');
  assert.deepEqual(leftovers, [], 'no .part or .lock file is left behind');
}

describe('downloadFile', () => {
  test('downloads, verifies and reports progress up to the full size', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const seen: number[] = [];
    const o = options(server.url('/model.pt'), { onProgress: (p) => seen.push(p.received) });
    const result = await downloadFile(o);
    assert.equal(result.sha256, checkpoint.sha256);
    assert.equal(result.downloaded, true);
    assert.equal(result.hashRecorded, false);
    assert.equal(seen.at(-1), checkpoint.bytes.length);
    await assertOnlyResult(o.dest);
  });

  test('follows a chain of three redirects, relative and absolute', async () => {
    server = await startServer((req, res) => {
      if (req.url === '/a') res.writeHead(302, { location: '/b' }).end();
      else if (req.url === '/b') res.writeHead(301, { location: server!.url('/c/') }).end();
      else if (req.url === '/c/') res.writeHead(307, { location: '../d' }).end();
      else if (req.url === '/d') serveBytes(checkpoint.bytes, req, res);
      else res.writeHead(404).end();
    });
    const o = options(server.url('/a'));
    await downloadFile(o);
    assert.deepEqual(
      server.requests.map((r) => r.path),
      ['/a', '/b', '/c/', '/d'],
    );
    await assertOnlyResult(o.dest);
  });

  test('stops a redirect loop', async () => {
    server = await startServer((_req, res) => res.writeHead(302, { location: '/again' }).end());
    await assert.rejects(downloadFile(options(server.url('/start'), { maxRedirects: 3 })), (err: DownloadError) => {
      assert.equal(err.reason, 'redirects');
      return true;
    });
    assert.equal(server.requests.length, 4);
  });

  test('resumes a partial .part file with a Range request', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const o = options(server.url('/model.pt'));
    await downloadFileAfterPart(o, checkpoint.bytes.subarray(0, 100_000));
    assert.deepEqual(server.requests, [{ path: '/model.pt', range: 'bytes=100000-' }]);
    await assertOnlyResult(o.dest);
  });

  test('starts over when the server ignores Range and sends the whole file', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': checkpoint.bytes.length }).end(checkpoint.bytes);
    });
    const o = options(server.url('/model.pt'));
    await downloadFileAfterPart(o, Buffer.alloc(50_000, 7));
    assert.equal(server.requests[0]!.range, 'bytes=50000-');
    await assertOnlyResult(o.dest);
  });

  test('rejects and removes a file whose sha256 is wrong, naming both hashes', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const wrong = 'f'.repeat(64);
    const o = options(server.url('/model.pt'), { sha256: wrong });
    await assert.rejects(downloadFile(o), (err: DownloadError) => {
      assert.equal(err.reason, 'hash');
      assert.match(err.message, new RegExp(`expected ${wrong}.*got ${checkpoint.sha256}`));
      return true;
    });
    assert.equal(existsSync(o.dest), false);
    assert.equal(existsSync(`${o.dest}.part`), false);
  });

  test('refuses a web page served as text/html', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body>Google Drive can’t scan this file for viruses.</body></html>');
    });
    const o = options(server.url('/uc?id=abc'));
    await assert.rejects(downloadFile(o), /the host answered with a web page.*Google Drive/);
    assert.equal(existsSync(o.dest), false);
    assert.equal(existsSync(`${o.dest}.part`), false);
  });

  test('refuses a web page even when it claims to be binary', async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('\n  <!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>');
    });
    const o = options(server.url('/model.pt'), { sha256: null, bytes: null });
    await assert.rejects(downloadFile(o), (err: DownloadError) => err.reason === 'html' && /web page/.test(err.message));
    assert.equal(existsSync(o.dest), false);
    assert.equal(existsSync(`${o.dest}.part`), false);
  });

  test('resumes after the server drops the connection mid-file', async () => {
    server = await startServer((req, res, index) => {
      if (index > 0) return serveBytes(checkpoint.bytes, req, res);
      res.writeHead(200, { 'content-length': checkpoint.bytes.length });
      res.write(checkpoint.bytes.subarray(0, 120_000), () => setTimeout(() => res.socket?.destroy(), 50));
    });
    const logged: string[] = [];
    const o = options(server.url('/model.pt'), { log: (line) => logged.push(line) });
    await downloadFile(o);
    assert.equal(server.requests.length, 2);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(server.requests[1]!.range ?? '')?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= 120_000, `resumed from what arrived (${server.requests[1]!.range})`);
    assert.match(logged.join('\n'), /resuming/);
    await assertOnlyResult(o.dest);
  });

  test('resumes after the body stalls for longer than the idle timeout', async () => {
    server = await startServer((req, res, index) => {
      if (index > 0) return serveBytes(checkpoint.bytes, req, res);
      res.writeHead(200, { 'content-length': checkpoint.bytes.length });
      res.write(checkpoint.bytes.subarray(0, 64_000)); // then nothing
    });
    const o = options(server.url('/model.pt'), { idleTimeoutMs: 200 });
    await downloadFile(o);
    assert.equal(server.requests.length, 2);
    assert.match(server.requests[1]!.range ?? '', /^bytes=\d+-$/);
    await assertOnlyResult(o.dest);
  });

  test('retries a 503 answer with backoff', async () => {
    server = await startServer((req, res, index) => {
      if (index < 2) res.writeHead(503).end('busy');
      else serveBytes(checkpoint.bytes, req, res);
    });
    const o = options(server.url('/model.pt'));
    await downloadFile(o);
    assert.equal(server.requests.length, 3);
    await assertOnlyResult(o.dest);
  });

  test('gives up after the allowed retries', async () => {
    server = await startServer((_req, res) => res.writeHead(500).end());
    await assert.rejects(downloadFile(options(server.url('/model.pt'), { retries: 2 })), (err: DownloadError) => {
      assert.equal(err.reason, 'gave-up');
      assert.match(err.message, /HTTP 500/);
      return true;
    });
    assert.equal(server.requests.length, 3);
  });

  test('does not retry a 404', async () => {
    server = await startServer((_req, res) => res.writeHead(404).end());
    await assert.rejects(downloadFile(options(server.url('/gone.pt'))), /answered HTTP 404/);
    assert.equal(server.requests.length, 1);
  });

  test('falls back to a mirror when the main URL does not serve the file', async () => {
    server = await startServer((req, res) => {
      if (req.url === '/mirror.pt') serveBytes(checkpoint.bytes, req, res);
      else res.writeHead(404).end();
    });
    const o = options(server.url('/main.pt'), { mirrors: [server.url('/mirror.pt')] });
    await downloadFile(o);
    await assertOnlyResult(o.dest);
  });

  test('rejects an answer of the wrong size before downloading it', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const o = options(server.url('/model.pt'), { bytes: 1234 });
    await assert.rejects(downloadFile(o), (err: DownloadError) => err.reason === 'size' && /offers 300000 bytes, expected 1234/.test(err.message));
  });

  test('cuts off an endless body at the expected size and removes it', { timeout: 10_000 }, async () => {
    const endless = endlessBody();
    server = await startServer(endless.handler);
    const o = options(server.url('/model.pt'));
    await assert.rejects(downloadFile(o), (err: DownloadError) => {
      assert.equal(err.reason, 'size');
      assert.match(err.message, /model\.pt sent more than the expected 300000 bytes; the download was removed/);
      return true;
    });
    assert.ok(endless.sent() < endless.limit, `stopped early (the server sent ${endless.sent()} bytes)`);
    assert.equal(existsSync(o.dest), false);
    assert.equal(existsSync(`${o.dest}.part`), false);
  });

  test('caps a file of unpublished size at maxBytes, by its Content-Length or while it arrives', { timeout: 10_000 }, async () => {
    const endless = endlessBody();
    server = await startServer((req, res) => (req.url === '/endless.pkl' ? endless.handler(req, res) : serveBytes(checkpoint.bytes, req, res)));
    const unpublished = { sha256: null, bytes: null, maxBytes: 100_000 };
    await assert.rejects(downloadFile(options(server.url('/model.pkl'), unpublished)), (err: DownloadError) => {
      assert.equal(err.reason, 'size');
      assert.match(err.message, /offers 300000 bytes, more than the 100000 allowed for a file of unpublished size/);
      return true;
    });
    const o = options(server.url('/endless.pkl'), unpublished);
    await assert.rejects(downloadFile(o), (err: DownloadError) => {
      assert.equal(err.reason, 'size');
      assert.match(err.message, /endless\.pkl sent more than 100000 bytes, the most allowed for a file of unpublished size; the download was removed/);
      return true;
    });
    assert.ok(endless.sent() < endless.limit, `stopped early (the server sent ${endless.sent()} bytes)`);
    assert.equal(existsSync(`${o.dest}.part`), false);
  });

  test('gives up on a body that trickles in below the minimum rate', { timeout: 10_000 }, async () => {
    // One byte every 20 ms never leaves the connection silent for a whole idle timeout.
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': checkpoint.bytes.length });
      let i = 0;
      const timer = setInterval(() => res.write(checkpoint.bytes.subarray(i, ++i)), 20);
      res.on('close', () => clearInterval(timer));
    });
    const o = options(server.url('/model.pt'), { idleTimeoutMs: 200, minBytesPerSecond: 1000, retries: 2 });
    await assert.rejects(downloadFile(o), (err: DownloadError) => {
      assert.equal(err.reason, 'gave-up');
      assert.match(err.message, /after 3 failed attempts: only \d+ bytes came from 127\.0\.0\.1:\d+ in 0\.2 s \(the minimum is 1000 bytes\/s\)/);
      return true;
    });
    assert.equal(server.requests.length, 3, 'an attempt that brings a few bytes still counts as failed');
  });

  test('refuses a redirect from https to plain http', { timeout: 20_000 }, async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const plain = server;
    const secure = await startServer((req, res) => {
      if (req.url === '/secure.pt') res.writeHead(302, { location: '/model.pt' }).end();
      else if (req.url === '/model.pt') serveBytes(checkpoint.bytes, req, res);
      else res.writeHead(302, { location: plain.url('/model.pt') }).end();
    }, { https: true });
    try {
      // The test server's certificate is trusted through NODE_EXTRA_CA_CERTS, which only a new process reads.
      const [good, downgraded] = await Promise.all([inChildProcess(options(secure.url('/secure.pt'))), inChildProcess(options(secure.url('/downgrade.pt')))]);
      assert.equal(good.sha256, checkpoint.sha256, 'https to https is followed');
      assert.equal(downgraded.reason, 'redirects');
      assert.ok(
        downgraded.message!.includes(`${secure.url('/downgrade.pt')} redirects to plain http (${plain.url('/model.pt')}); refusing an unencrypted download`),
        downgraded.message,
      );
      assert.equal(plain.requests.length, 0, 'nothing was fetched over plain http');
    } finally {
      await secure.close();
    }
  });

  test('fails fast with a clear message when the server accepts but never answers', async () => {
    server = await startServer(() => undefined);
    const started = Date.now();
    await assert.rejects(downloadFile(options(server.url('/model.pt'), { connectTimeoutMs: 300 })), (err: DownloadError) => {
      assert.equal(err.reason, 'unreachable');
      assert.match(err.message, /accepted the connection but did not answer within 0\.3 s/);
      return true;
    });
    assert.ok(Date.now() - started < 2000);
    assert.equal(server.requests.length, 1, 'a silent host is not retried');
  });

  test('fails at once when the connection is refused', async () => {
    const port = await closedPort();
    const started = Date.now();
    await assert.rejects(downloadFile(options(`http://127.0.0.1:${port}/model.pt`)), (err: DownloadError) => {
      assert.equal(err.reason, 'unreachable');
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
    assert.ok(Date.now() - started < 1000);
  });

  test('GANVEC_OFFLINE=1 makes no request', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    process.env.GANVEC_OFFLINE = '1';
    try {
      await assert.rejects(downloadFile(options(server.url('/model.pt'))), /GANVEC_OFFLINE=1/);
    } finally {
      delete process.env.GANVEC_OFFLINE;
    }
    assert.equal(server.requests.length, 0);
  });

  test('records the hash of a file with no published hash, and holds later downloads to it', async () => {
    let body = checkpoint.bytes;
    server = await startServer((req, res) => serveBytes(body, req, res));
    const logged: string[] = [];
    const o = options(server.url('/model.pkl'), { sha256: null, bytes: null, log: (line) => logged.push(line) });
    const first = await downloadFile(o);
    assert.equal(first.hashRecorded, true);
    assert.equal(await readFile(`${o.dest}.sha256`, 'utf8'), `${checkpoint.sha256}  model.pt\n`);
    assert.match(logged.join('\n'), new RegExp(`no sha256 is published.*recorded ${checkpoint.sha256}`));

    await rm(o.dest);
    body = fakeCheckpoint(1000).bytes;
    await assert.rejects(downloadFile(o), (err: DownloadError) => err.reason === 'hash' && /recorded at the first download/.test(err.message));
  });

  test('holds a first download to the hash prefix of its torch.hub file name, then records its full hash', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const wrong = options(server.url('/model-0badf00d.pth'), { sha256: null, bytes: null, sha256Prefix: '0badf00d' });
    await assert.rejects(downloadFile(wrong), (err: DownloadError) => {
      assert.equal(err.reason, 'hash');
      assert.match(err.message, new RegExp(`expected one starting 0badf00d \\(the hash in its file name\\), got ${checkpoint.sha256}`));
      return true;
    });
    assert.equal(existsSync(wrong.dest), false);
    assert.equal(existsSync(`${wrong.dest}.sha256`), false);

    const prefix = checkpoint.sha256.slice(0, 8);
    const right = options(server.url(`/model-${prefix}.pth`), { sha256: null, bytes: null, sha256Prefix: prefix });
    const result = await downloadFile(right);
    assert.equal(result.hashRecorded, true);
    assert.equal(await readFile(`${right.dest}.sha256`, 'utf8'), `${checkpoint.sha256}  model.pt\n`);
  });

  test('a file already in place and verified is not downloaded again', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const o = options(server.url('/model.pt'));
    await downloadFile(o);
    const again = await downloadFile(o);
    assert.equal(again.downloaded, false);
    assert.equal(server.requests.length, 1);
  });

  test('two parallel calls for one file end with the same verified file and one transfer', async () => {
    server = await startServer((req, res) => slowlyServe(checkpoint.bytes, req, res));
    const o = options(server.url('/model.pt'));
    const [a, b] = await Promise.all([downloadFile(o), downloadFile(o)]);
    assert.equal(a.sha256, checkpoint.sha256);
    assert.equal(b.sha256, checkpoint.sha256);
    assert.deepEqual([a.downloaded, b.downloaded].sort(), [false, true]);
    assert.equal(server.requests.length, 1);
    await assertOnlyResult(o.dest);
  });

  test('two processes downloading one file both end with the same verified file', async () => {
    server = await startServer((req, res) => slowlyServe(checkpoint.bytes, req, res));
    const o = options(server.url('/model.pt'));
    const results = await Promise.all([inChildProcess(o), inChildProcess(o)]);
    for (const result of results) {
      assert.equal(result.sha256, checkpoint.sha256);
      assert.equal(result.path, o.dest);
    }
    assert.equal(server.requests.length, 1, 'the second process waited and reused the first one’s file');
    await assertOnlyResult(o.dest);
  });

  test('takes over the lock of a process that died', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const deadPid = await exitedProcessId();
    const logged: string[] = [];
    const o = options(server.url('/model.pt'), { log: (line) => logged.push(line) });
    await downloadFileAfterPart(o, checkpoint.bytes.subarray(0, 10_000), { pid: deadPid, host: hostname(), token: 'old' });
    assert.match(logged.join('\n'), new RegExp(`abandoned download \\(process ${deadPid} is gone\\)`));
    assert.equal(server.requests[0]!.range, 'bytes=10000-');
    await assertOnlyResult(o.dest);
  });

  test('the CLI draws its progress as a bar on a terminal and nothing elsewhere', async () => {
    server = await startServer((req, res) => serveBytes(checkpoint.bytes, req, res));
    const stream = (isTTY: boolean, sink: (t: string) => void) => ({ isTTY, columns: 100, write: (t: string) => (sink(t), true) }) as unknown as NodeJS.WriteStream;
    let terminal = '';
    await downloadFile(options(server.url('/model.pt'), { onProgress: downloadProgress(stream(true, (t) => (terminal += t))).onProgress }));
    assert.match(terminal, /\[#+\] model\.pt  100%  293\.0 KiB \/ 293\.0 KiB  .*\/s/);
    assert.ok(terminal.endsWith('\n'));

    let pipe = '';
    await downloadFile(options(server.url('/model.pt'), { onProgress: downloadProgress(stream(false, (t) => (pipe += t))).onProgress }));
    assert.equal(pipe, '');
  });
});

async function downloadFileAfterPart(o: DownloadOptions, part: Buffer, lock?: object): Promise<void> {
  await mkdir(join(o.dest, '..'), { recursive: true });
  await writeFile(`${o.dest}.part`, part);
  if (lock) await writeFile(`${o.dest}.lock`, JSON.stringify(lock));
  await downloadFile(o);
}

/** Sends the body in pieces over about half a second, so that concurrent downloads overlap. */
function slowlyServe(body: Buffer, _req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
  const pieces = 10;
  const size = Math.ceil(body.length / pieces);
  let i = 0;
  const timer = setInterval(() => {
    res.write(body.subarray(i * size, (i + 1) * size));
    if (++i === pieces) {
      clearInterval(timer);
      res.end();
    }
  }, 50);
}

/** Runs downloadFile(o) in a process of its own that trusts the HTTPS test server: its result, or its failure. */
async function inChildProcess(o: DownloadOptions): Promise<{ sha256?: string; path?: string; reason?: string; message?: string }> {
  const { log: _log, ...serializable } = o;
  const child = run(process.execPath, ['--import', 'tsx', 'test/fixtures/download/fetch-one.ts', JSON.stringify(serializable)], {
    cwd: join(import.meta.dirname, '..'),
    env: { ...process.env, NODE_EXTRA_CA_CERTS: TEST_CERTIFICATE },
  });
  // A failed download exits 1 with its reason on stdout.
  const { stdout } = await child.catch((err: { stdout: string }) => err);
  return JSON.parse(stdout) as { sha256?: string; path?: string; reason?: string; message?: string };
}

/** A body without a Content-Length that goes on (up to `limit` bytes) until the client hangs up. */
function endlessBody(): { handler: (req: IncomingMessage, res: ServerResponse) => void; sent: () => number; limit: number } {
  const limit = 20_000_000;
  let sent = 0;
  const chunk = Buffer.alloc(16_384, 0x42);
  const handler = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const more = () => {
      while (sent < limit && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  };
  return { handler, sent: () => sent, limit };
}

async function exitedProcessId(): Promise<number> {
  const child = execFile(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}
