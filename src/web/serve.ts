/**
 * The local server of the web viewer (examples/web, bundled into dist/web-page by `npm run build:web`):
 * the page, the generator exported to ONNX (`/model.onnx`) with its facts (`/model.json`), and any
 * domain files given (`/domains/<name>`, preloaded by the page). Cross-origin isolated (COOP/COEP), so
 * onnxruntime-web may use wasm threads; 127.0.0.1 unless told otherwise.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatorName } from '../domains/domain-file.js';
import type { Generator } from '../generators/generator.js';
import { exportOnnx } from '../generators/onnx-export.js';

/** Two levels up from src/web/ and from dist/web/ alike: the package root. */
const PAGE_DIR = fileURLToPath(new URL('../../dist/web-page/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.wasm': 'application/wasm',
};
const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

export interface ServeViewerOptions {
  port?: number;
  host?: string;
  /** Domain files served to the page and loaded at start (checked by the caller against the generator). */
  domains?: readonly string[];
}

export interface ViewerServer {
  url: string;
  close(): Promise<void>;
}

export async function serveViewer(G: Generator, options: ServeViewerOptions = {}): Promise<ViewerServer> {
  const { port = 8080, host = '127.0.0.1', domains = [] } = options;
  const index = join(PAGE_DIR, 'index.html');
  if (!(await stat(index).catch(() => undefined))) {
    throw new Error(`the web viewer is not built (no ${index}): run \`npm run build:web\` in the ganvec checkout`);
  }
  const { model, spec } = await exportOnnx(G, { latent: 'z', batch: 1 });
  const names = domains.map((path, i) => `${i}-${basename(path)}`);
  const facts = JSON.stringify({
    model: generatorName(G), family: G.family.name, size: G.size, zDim: G.styleDim,
    parameterisation: G.parameterisation.name, base_fingerprint: G.source.fingerprint, domain_layers: G.domainLayers,
    inputs: spec.inputs, domains: names.map((name) => ({ name: name.replace(/^\d+-/, ''), url: `domains/${encodeURIComponent(name)}` })),
  });
  const domainFiles = new Map(names.map((name, i) => [name, domains[i]!]));

  const send = (res: ServerResponse, status: number, type: string, body: Uint8Array | string) => {
    res.writeHead(status, { ...ISOLATION, 'content-type': type, 'cache-control': 'no-store' }).end(body);
  };
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n');
      if (path === '/model.onnx') return send(res, 200, 'application/octet-stream', model);
      if (path === '/model.json') return send(res, 200, TYPES['.json']!, facts);
      if (path.startsWith('/domains/')) {
        const file = domainFiles.get(path.slice('/domains/'.length));
        return file ? send(res, 200, 'application/octet-stream', await readFile(file)) : send(res, 404, 'text/plain', 'no such domain\n');
      }
      const relative = normalize(path === '/' ? 'index.html' : path.slice(1));
      const type = TYPES[extname(relative)];
      if (relative.startsWith('..') || relative.includes(`..${sep}`) || !type) return send(res, 404, 'text/plain', 'not found\n');
      const body = await readFile(join(PAGE_DIR, relative)).catch(() => undefined);
      return body ? send(res, 200, type, body) : send(res, 404, 'text/plain', 'not found\n');
    } catch (err) {
      send(res, 500, 'text/plain', `${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
