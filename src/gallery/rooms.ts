/**
 * A gallery's rooms file: each room has a name and the text queries that choose its pictures (a picture
 * is named after its query), and optionally the prompt templates the queries are put into before CLIP
 * embeds them (default: the 79 ImageNet templates).
 *
 *   { "templates": ["a painting of {}."], "rooms": [{ "name": "People", "queries": ["beauty", "master"] }] }
 */
import { readFile } from 'node:fs/promises';
import { IMAGENET_TEMPLATES } from '../train/prompt-templates.js';

export interface Room {
  name: string;
  /** URL-safe and unique: the name lower-cased, other characters as `-`. */
  slug: string;
  queries: string[];
}

export interface Rooms {
  rooms: Room[];
  templates: readonly string[];
}

const MAX_TEXT = 200;

export class RoomsFileError extends Error {}

/** Reads and checks a rooms file; every problem is one line naming the file. */
export async function readRooms(path: string): Promise<Rooms> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RoomsFileError(`rooms file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RoomsFileError(`rooms file ${path}: not JSON (${(err as Error).message})`);
  }
  return parseRooms(json, (problem) => new RoomsFileError(`rooms file ${path}: ${problem}`));
}

export function parseRooms(json: unknown, fail: (problem: string) => Error = (p) => new RoomsFileError(p)): Rooms {
  const top = json as { rooms?: unknown; templates?: unknown } | null;
  if (typeof top !== 'object' || top === null || !Array.isArray(top.rooms) || top.rooms.length === 0) {
    throw fail('expected {"rooms": [{"name": …, "queries": […]}, …]} with at least one room');
  }
  const templates = top.templates === undefined ? IMAGENET_TEMPLATES : checkTemplates(top.templates, fail);
  const slugs = new Set<string>();
  const queries = new Set<string>();
  const rooms = (top.rooms as unknown[]).map((r, i): Room => {
    const { name, queries: qs } = (r ?? {}) as { name?: unknown; queries?: unknown };
    if (!isText(name)) throw fail(`room ${i + 1} needs a "name" (1-${MAX_TEXT} characters)`);
    const slug = slugOf(name);
    if (slug === '') throw fail(`room "${name}" needs a letter or digit in its name`);
    if (slugs.has(slug)) throw fail(`two rooms are both called "${slug}"`);
    slugs.add(slug);
    if (!Array.isArray(qs) || qs.length === 0) throw fail(`room "${name}" needs a non-empty list of "queries"`);
    const trimmed = qs.map((q) => {
      if (!isText(q)) throw fail(`room "${name}": each query must be a text of 1-${MAX_TEXT} characters, got ${JSON.stringify(q)}`);
      const query = q.trim();
      // A query names its pictures, so it may only choose for one room.
      if (queries.has(query)) throw fail(`the query "${query}" appears twice`);
      queries.add(query);
      return query;
    });
    return { name: name.trim(), slug, queries: trimmed };
  });
  return { rooms, templates };
}

function checkTemplates(templates: unknown, fail: (problem: string) => Error): string[] {
  if (!Array.isArray(templates) || templates.length === 0 || !templates.every((t) => isText(t) && t.includes('{}'))) {
    throw fail('"templates" must be a non-empty list of texts, each with {} where the query goes');
  }
  return templates as string[];
}

function isText(x: unknown): x is string {
  return typeof x === 'string' && x.trim().length > 0 && x.length <= MAX_TEXT;
}

export function slugOf(name: string): string {
  return name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}
