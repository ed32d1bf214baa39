/**
 * `serveGallery`: the gallery as a small web app on node:http. Visitors walk the rooms and claim
 * pictures; the first claim of a picture wins inside the claims database; its owner (and nobody else)
 * downloads the full-size image, generated on demand from the seed. Every route checks its input against
 * the manifest (no file path ever comes from a request), claims are rate-limited per client address, a
 * cross-site form cannot claim, and bound to a loopback address the server answers only to its own host
 * names (no DNS rebinding).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Generator } from '../generators/generator.js';
import { ClaimsDb } from './claims-db.js';
import { domainFileDigest, readManifest, type GalleryManifest, type GalleryPicture, type GalleryRoom } from './manifest.js';
import { newOwnerToken, ownerCookie, presentedToken, tokenMatches } from './owner-token.js';
import { messagePage, picturePage, roomPage, roomsPage, STYLESHEET, type PictureStatus } from './pages.js';
import { RateLimit } from './rate-limit.js';
import { pngOfSize, renderSeeds } from './render.js';

export interface GalleryServerOptions {
  /** The folder `buildGallery` wrote. */
  dir: string;
  /** The claims database folder (PGlite). */
  db: string;
  /** The generator the gallery was built with (its fingerprint is checked). */
  generator: Generator;
  /** The domain file the gallery was built in, if any (its digest is checked). */
  domain?: { file: string; vector: Float32Array };
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Claim attempts per client address per minute. */
  claimsPerMinute?: number;
  onError?: (err: Error) => void;
}

export interface GalleryServer {
  url: string;
  manifest: GalleryManifest;
  claims: ClaimsDb;
  close(): Promise<void>;
}

export const SERVE_DEFAULTS = { host: '127.0.0.1', port: 8080, claimsPerMinute: 10 } as const;

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  // Not no-referrer: with it Chromium sends `Origin: null` on the claim form, which the claim check refuses.
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
const ID = '([a-z0-9-]{1,80})';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const MAX_BODY = 1024;

export async function serveGallery(o: GalleryServerOptions): Promise<GalleryServer> {
  const manifest = await readManifest(o.dir);
  await checkSources(manifest, o);
  const rooms = new Map(manifest.rooms.map((r) => [r.slug, r]));
  const pictures = new Map<string, { room: GalleryRoom; picture: GalleryPicture }>();
  for (const room of manifest.rooms) for (const picture of room.pictures) pictures.set(picture.id, { room, picture });
  const claims = await ClaimsDb.open(o.db);
  const limit = new RateLimit(o.claimsPerMinute ?? SERVE_DEFAULTS.claimsPerMinute, 60_000);
  const host = o.host ?? SERVE_DEFAULTS.host;
  let allowedHosts: Set<string> | undefined;

  // One image at a time: the sessions run one call each, and a queue keeps memory bounded.
  let queue: Promise<unknown> = Promise.resolve();
  const fullSize = (seed: number) => {
    const next = queue.then(async () => pngOfSize(await renderSeeds(o.generator, [seed], { truncation: manifest.truncation, domain: o.domain?.vector }), 0, o.generator.size));
    queue = next.catch(() => undefined);
    return next;
  };

  async function visitorOf(req: IncomingMessage): Promise<number | undefined> {
    const presented = presentedToken(req.headers.cookie);
    if (!presented) return undefined;
    return tokenMatches(presented.token, await claims.tokenHash(presented.visitorId)) ? presented.visitorId : undefined;
  }

  async function statusOf(id: string, visitor: number | undefined): Promise<PictureStatus> {
    const owner = await claims.ownerOf(id);
    return owner === undefined ? 'available' : owner === visitor ? 'yours' : 'taken';
  }

  type Entry = { room: GalleryRoom; picture: GalleryPicture };
  type Route = { pattern: RegExp; method: 'GET' | 'POST'; run: (req: IncomingMessage, res: ServerResponse, key: string | undefined) => Promise<void> };
  /** Runs `then` with the picture named by the path, or answers 404. */
  const picture = (then: (req: IncomingMessage, res: ServerResponse, entry: Entry) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse, id: string | undefined) => {
      const entry = pictures.get(id!);
      return entry ? then(req, res, entry) : notFound(res);
    };
  const routes: Route[] = [
    { pattern: /^\/$/, method: 'GET', run: async (_req, res) => html(res, 200, roomsPage(manifest.rooms, await claims.owners([...pictures.keys()]))) },
    { pattern: /^\/style\.css$/, method: 'GET', run: async (_req, res) => send(res, 200, 'text/css; charset=utf-8', STYLESHEET, 'public, max-age=3600') },
    {
      pattern: new RegExp(`^/rooms/${ID}$`), method: 'GET', run: async (req, res, slug) => {
        const room = rooms.get(slug!);
        if (!room) return notFound(res);
        const visitor = await visitorOf(req);
        const owners = await claims.owners(room.pictures.map((p) => p.id));
        return html(res, 200, roomPage(room, (id) => (!owners.has(id) ? 'available' : owners.get(id) === visitor ? 'yours' : 'taken')));
      },
    },
    {
      pattern: new RegExp(`^/thumbnails/${ID}\\.png$`), method: 'GET',
      run: picture(async (_req, res, e) => send(res, 200, 'image/png', await readFile(join(o.dir, e.picture.thumbnail)), 'public, max-age=3600')),
    },
    {
      pattern: new RegExp(`^/pictures/${ID}$`), method: 'GET',
      run: picture(async (req, res, e) => html(res, 200, picturePage(e.room, e.picture.id, await statusOf(e.picture.id, await visitorOf(req))))),
    },
    { pattern: new RegExp(`^/pictures/${ID}/claim$`), method: 'POST', run: picture(claim) },
    {
      pattern: new RegExp(`^/pictures/${ID}/full\\.png$`), method: 'GET', run: picture(async (req, res, { picture: p }) => {
        const visitor = await visitorOf(req);
        if (visitor === undefined || (await claims.ownerOf(p.id)) !== visitor) {
          return html(res, 403, messagePage('Not yours', 'Only the owner of this picture can download it.'));
        }
        const png = await fullSize(p.seed);
        res.setHeader('Content-Disposition', `attachment; filename="${p.query.replace(/[^A-Za-z0-9 _-]/g, '_')}.png"`);
        return send(res, 200, 'image/png', png, 'private, no-store');
      }),
    },
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (allowedHosts && !allowedHosts.has(req.headers.host ?? '')) return send(res, 421, 'text/plain', 'unknown host\n');
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    for (const route of routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method === method) return route.run(req, res, m[1]);
      res.setHeader('Allow', route.method === 'GET' ? 'GET, HEAD' : route.method);
      return html(res, 405, messagePage('Method not allowed', `${req.method} is not allowed here.`));
    }
    return notFound(res);
  }

  async function claim(req: IncomingMessage, res: ServerResponse, { room, picture }: Entry): Promise<void> {
    // A form on another site must not claim in this visitor's name (SameSite=Strict covers the cookie, this the claim itself).
    const origin = req.headers.origin;
    if ((origin !== undefined && origin !== `http://${req.headers.host}`) || req.headers['sec-fetch-site'] === 'cross-site') {
      return html(res, 403, messagePage('Refused', 'Claims must come from the gallery\'s own pages.'));
    }
    if (!(await drainBody(req))) return html(res, 413, messagePage('Too large', 'A claim carries no data.'));
    const allowed = limit.take(req.socket.remoteAddress ?? 'unknown');
    if (!allowed.allowed) {
      res.setHeader('Retry-After', String(allowed.retryAfterSeconds));
      return html(res, 429, messagePage('Slow down', `Too many claims from your address; try again in ${allowed.retryAfterSeconds} s.`));
    }
    const visitor = await visitorOf(req);
    const fresh = visitor === undefined ? newOwnerToken() : undefined;
    const won = await claims.claim(picture.id, visitor !== undefined ? { id: visitor } : { tokenHash: fresh!.hash });
    if (won !== undefined || (await claims.ownerOf(picture.id)) === visitor) {
      if (won !== undefined && fresh) res.setHeader('Set-Cookie', ownerCookie(won, fresh.token));
      res.setHeader('Location', `/pictures/${picture.id}`);
      return send(res, 303, 'text/plain', 'claimed\n');
    }
    return html(res, 409, picturePage(room, picture.id, 'taken', 'Someone else claimed it first.'));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      o.onError?.(err);
      if (!res.headersSent) html(res, 500, messagePage('Error', 'Something went wrong on the server.'));
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? SERVE_DEFAULTS.port, host, () => resolve());
    });
  } catch (err) {
    await claims.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  if (LOOPBACK.has(host)) allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    manifest,
    claims,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await queue;
      await claims.close();
    },
  };
}

async function checkSources(manifest: GalleryManifest, o: GalleryServerOptions): Promise<void> {
  if (o.generator.source.fingerprint !== manifest.model.fingerprint) {
    throw new Error(`${o.dir} was built with a generator of fingerprint ${manifest.model.fingerprint}; ${o.generator.source.path} has ${o.generator.source.fingerprint}`);
  }
  const wanted = manifest.domain?.digest;
  if (wanted === undefined && o.domain) throw new Error(`${o.dir} was built without a domain; ${o.domain.file} was given`);
  if (wanted !== undefined) {
    if (!o.domain) throw new Error(`${o.dir} was built in the domain ${manifest.domain!.file}; give it (--domain) to serve downloads`);
    const digest = await domainFileDigest(o.domain.file);
    if (digest !== wanted) throw new Error(`${o.domain.file} (sha256 ${digest.slice(0, 12)}…) is not the domain file ${o.dir} was built in (sha256 ${wanted.slice(0, 12)}…)`);
  }
}

/** Reads and discards a request body of at most MAX_BODY bytes; false when it is larger. */
function drainBody(req: IncomingMessage): Promise<boolean> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) return Promise.resolve(false);
  return new Promise((resolve) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(false);
        req.destroy();
      }
    });
    req.on('end', () => resolve(size <= MAX_BODY));
    req.on('error', () => resolve(false));
  });
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, cache = 'no-store'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': cache });
  res.end(body);
}

function html(res: ServerResponse, status: number, body: string): void {
  send(res, status, 'text/html; charset=utf-8', body);
}

function notFound(res: ServerResponse): void {
  html(res, 404, messagePage('Not found', 'There is nothing here.'));
}
