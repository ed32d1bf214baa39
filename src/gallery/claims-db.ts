/**
 * Who owns which picture, in an embedded PostgreSQL (PGlite: Postgres compiled to WebAssembly, installed
 * from npm alone) kept in a folder. The picture id is the claims table's primary key, so the first claim
 * wins inside the database however many arrive at once. Schema changes are numbered migrations recorded
 * in `schema_migrations`. One process at a time: `<dir>.lock` holds the server's pid.
 *
 * Durability: PGlite's Node file system does not pass Postgres' fsync on to the disk, so after every
 * committed write the WAL segments (and their folder) are flushed here; a claim answered as won survives
 * a crash or power loss, and Postgres replays the WAL on the next start. The data files a checkpoint
 * writes are flushed after opening (initdb, recovery) and after closing (the shutdown checkpoint); a
 * checkpoint in between only comes after max_wal_size (1 GB) of WAL, far beyond a gallery's claims.
 */
import { PGlite } from '@electric-sql/pglite';
import { closeSync, fsyncSync, openSync, readdirSync, type Dirent } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from '../io/atomic.js';
import { acquireRunLock, type RunLock } from '../train/run-lock.js';

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** In order; never edit one that has shipped, add the next. */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'visitors and claims',
    sql: `
      CREATE TABLE visitors (
        id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        token_hash BYTEA NOT NULL CHECK (octet_length(token_hash) = 32),
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE TABLE claims (
        picture_id TEXT PRIMARY KEY,
        visitor_id INTEGER NOT NULL REFERENCES visitors (id),
        claimed_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE INDEX claims_by_visitor ON claims (visitor_id);`,
  },
];

export class ClaimsDb {
  private constructor(
    private readonly db: PGlite,
    private readonly dir: string,
    private readonly lock: RunLock,
  ) {}

  static async open(dir: string): Promise<ClaimsDb> {
    await mkdir(dir, { recursive: true });
    const lock = acquireRunLock(dir, (owner, lockPath) => `the claims database ${dir} is in use by process ${owner} (see ${lockPath}); stop that server or choose another --db`);
    try {
      const db = await PGlite.create({ dataDir: dir });
      const claims = new ClaimsDb(db, dir, lock);
      await claims.migrate();
      flushTree(dir);
      return claims;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** The schema versions applied, in order. */
  async schemaVersions(): Promise<number[]> {
    return (await this.db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
  }

  /**
   * Claims `pictureId` for `visitorId`, or for a new visitor with this token hash when `visitorId` is
   * undefined (created only if the claim wins). Returns the owner's visitor id when this claim won,
   * undefined when the picture was already taken.
   */
  async claim(pictureId: string, visitor: { id: number } | { tokenHash: Buffer }): Promise<number | undefined> {
    const won = await this.db.transaction(async (tx) => {
      const id = 'id' in visitor
        ? visitor.id
        : (await tx.query<{ id: number }>('INSERT INTO visitors (token_hash) VALUES ($1) RETURNING id', [visitor.tokenHash])).rows[0]!.id;
      const inserted = await tx.query('INSERT INTO claims (picture_id, visitor_id) VALUES ($1, $2) ON CONFLICT (picture_id) DO NOTHING RETURNING picture_id', [pictureId, id]);
      if (inserted.rows.length === 0) {
        await tx.rollback();
        return undefined;
      }
      return id;
    });
    if (won !== undefined) this.flushWal();
    return won;
  }

  async ownerOf(pictureId: string): Promise<number | undefined> {
    return (await this.db.query<{ visitor_id: number }>('SELECT visitor_id FROM claims WHERE picture_id = $1', [pictureId])).rows[0]?.visitor_id;
  }

  /** Owners of these pictures (those claimed). */
  async owners(pictureIds: readonly string[]): Promise<Map<string, number>> {
    const rows = (await this.db.query<{ picture_id: string; visitor_id: number }>('SELECT picture_id, visitor_id FROM claims WHERE picture_id = ANY($1)', [pictureIds])).rows;
    return new Map(rows.map((r) => [r.picture_id, r.visitor_id]));
  }

  async claimCount(pictureId?: string): Promise<number> {
    const r = pictureId === undefined
      ? await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM claims')
      : await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM claims WHERE picture_id = $1', [pictureId]);
    return r.rows[0]!.n;
  }

  /** The stored sha256 of a visitor's token. */
  async tokenHash(visitorId: number): Promise<Buffer | undefined> {
    const row = (await this.db.query<{ token_hash: Uint8Array }>('SELECT token_hash FROM visitors WHERE id = $1', [visitorId])).rows[0];
    return row && Buffer.from(row.token_hash);
  }

  async close(): Promise<void> {
    try {
      await this.db.close();
      flushTree(this.dir);
    } finally {
      this.lock.release();
    }
  }

  private async migrate(): Promise<void> {
    await this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const applied = new Set(await this.schemaVersions());
    const newest = Math.max(0, ...applied);
    if (newest > MIGRATIONS.at(-1)!.version) throw new Error(`the claims database ${this.dir} has schema version ${newest}, newer than this ganvec knows (${MIGRATIONS.at(-1)!.version})`);
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await this.db.transaction(async (tx) => {
        await tx.exec(m.sql);
        await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      });
    }
    this.flushWal();
  }

  private flushWal(): void {
    const wal = join(this.dir, 'pg_wal');
    for (const name of readdirSync(wal)) if (/^[0-9A-F]{24}$/.test(name)) flushFile(join(wal, name));
    syncDirectory(wal);
  }
}

function flushFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Every file and folder under `dir` flushed to disk. */
function flushTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }) as Dirent[]) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) flushTree(path);
    else if (entry.isFile()) flushFile(path);
  }
  syncDirectory(dir);
}
