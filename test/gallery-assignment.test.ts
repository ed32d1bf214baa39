/**
 * The gallery's choices on fixed scores and embeddings, exactly: which room (if any) each picture goes to
 * and under which query, and which pictures a room keeps under the diversity rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignRooms } from '../src/gallery/assignment.js';
import { parseRooms, readRooms } from '../src/gallery/rooms.js';
import { REPO } from './helpers/cli.js';
import { queryEnsembles, scoreMatrix, type ScoreMatrix } from '../src/gallery/scoring.js';
import { selectRoomPictures } from '../src/gallery/selection.js';
import { IMAGENET_TEMPLATES } from '../src/train/prompt-templates.js';

const matrix = (rows: number[][]): ScoreMatrix => ({ data: Float64Array.from(rows.flat()), pictures: rows.length, queries: rows[0]!.length });

describe('assignRooms', () => {
  // Queries 0, 1 are room 0's; 2 is room 1's; 3 is room 2's.
  const queryRoom = [0, 0, 1, 2];
  const rule = { minScore: 0.25, margin: 0.0625 };

  it('takes the best query when it beats every other room by the margin, and leaves out ties, low scores and narrow wins', () => {
    const scores = matrix([
      [0.5, 0.25, 0.375, 0.125],    // room 0 by "q0", margin 0.125
      [0.25, 0.125, 0.5, 0.5],      // rooms 1 and 2 tie: out
      [0.125, 0.1875, 0.0625, 0],   // best 0.1875 < minScore: out
      [0.375, 0, 0.34375, 0],       // margin 0.03125 < 0.0625: out
      [0.4375, 0.4375, 0.25, 0.125], // two queries of room 0 tie: named after the first listed
      [0.25, 0, 0, 0.3125],         // room 2, margin exactly 0.0625: in
      [NaN, NaN, NaN, NaN],         // no scores: out
      [0.5, 0.5625, 0.5, 0],        // room 0 by "q1" over room 1: margin 0.0625, in
    ]);
    assert.deepEqual(assignRooms(scores, queryRoom, rule), [
      { picture: 0, room: 0, query: 0, score: 0.5, margin: 0.125 },
      { picture: 4, room: 0, query: 0, score: 0.4375, margin: 0.1875 },
      { picture: 5, room: 2, query: 3, score: 0.3125, margin: 0.0625 },
      { picture: 7, room: 0, query: 1, score: 0.5625, margin: 0.0625 },
    ]);
  });

  it('with margin 0 still leaves out an exact tie between rooms, and compares rooms, not queries', () => {
    const scores = matrix([[0.5, 0.5, 0.5, 0], [0.5, 0.5, 0.25, 0]]);
    assert.deepEqual(assignRooms(scores, queryRoom, { minScore: 0, margin: 0 }), [{ picture: 1, room: 0, query: 0, score: 0.5, margin: 0.25 }]);
  });

  it('with one room, keeps every picture above the score', () => {
    assert.deepEqual(assignRooms(matrix([[0.25], [0.125]]), [0], { minScore: 0.2, margin: 0.1 }), [{ picture: 0, room: 0, query: 0, score: 0.25, margin: Infinity }]);
  });
});

describe('selectRoomPictures', () => {
  const unit = (degrees: number) => Float64Array.of(Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180));
  // Pictures on the unit circle: cos(10°) ≈ 0.985 (near-duplicates), cos(60°) = 0.5.
  const embeddings = [unit(0), unit(10), unit(60), unit(120), unit(65), unit(180)];
  const a = (picture: number, room: number, score: number) => ({ picture, room, query: room, score, margin: 1 });

  it('takes rooms best first, skips pictures too close to a chosen one, and stops at perRoom', () => {
    const assigned = [a(0, 0, 0.5), a(1, 0, 0.75), a(2, 0, 0.25), a(3, 0, 0.375), a(4, 1, 0.5), a(5, 1, 0.5)];
    const rooms = selectRoomPictures(assigned, embeddings, 3, { perRoom: 2, maxSimilarity: 0.9 });
    // Room 0: 1 (0.75), then 0 is within 10° of 1 → skipped, then 3 (0.375); 2 would be third. Room 1: equal scores in picture order.
    assert.deepEqual(rooms.map((r) => r.map((x) => x.picture)), [[1, 3], [4, 5], []]);
  });

  it('with maxSimilarity 1 keeps near-duplicates (only exact copies could exceed it)', () => {
    const rooms = selectRoomPictures([a(0, 0, 0.5), a(1, 0, 0.75)], embeddings, 1, { perRoom: 5, maxSimilarity: 1 });
    assert.deepEqual(rooms[0]!.map((x) => x.picture), [1, 0]);
  });
});

describe('scoring', () => {
  it('a query is the normalised mean of its unit template embeddings; a score is the cosine', async () => {
    const seen: string[][] = [];
    const clip = {
      // "a {}" → [3, 4]; "the {}" → [0, 2]: unit rows [0.6, 0.8] and [0, 1], mean [0.3, 0.9].
      async encodeText(texts: string[]) {
        seen.push(texts);
        return { data: Float32Array.from(texts.flatMap((t) => (t.startsWith('a ') ? [3, 4] : [0, 2]))), shape: [texts.length, 2] };
      },
    };
    const [q] = await queryEnsembles(clip, ['cat'], ['a {}', 'the {}']);
    assert.deepEqual(seen, [['a cat', 'the cat']]);
    const n = Math.hypot(0.3, 0.9);
    assert.ok(Math.abs(q![0]! - 0.3 / n) < 1e-15 && Math.abs(q![1]! - 0.9 / n) < 1e-15, String(q));
    const s = scoreMatrix([Float64Array.of(1, 0), Float64Array.of(0, 1)], [q!]);
    assert.deepEqual([s.pictures, s.queries], [2, 1]);
    assert.ok(Math.abs(s.data[0]! - 0.3 / n) < 1e-15 && Math.abs(s.data[1]! - 0.9 / n) < 1e-15);
  });
});

describe('rooms files', () => {
  it('reads rooms, slugs and templates, defaulting to the 79 ImageNet templates', () => {
    const r = parseRooms({ rooms: [{ name: ' People ', queries: ['beauty', ' round dance '] }, { name: 'Mood!', queries: ['date'] }] });
    assert.deepEqual(r.rooms, [{ name: 'People', slug: 'people', queries: ['beauty', 'round dance'] }, { name: 'Mood!', slug: 'mood', queries: ['date'] }]);
    assert.equal(r.templates, IMAGENET_TEMPLATES);
    assert.deepEqual(parseRooms({ templates: ['a painting of {}.'], rooms: [{ name: 'A', queries: ['x'] }] }).templates, ['a painting of {}.']);
  });

  it('the example has the founding document\'s four rooms and queries', async () => {
    const r = await readRooms(`${REPO}examples/gallery/rooms.json`);
    assert.deepEqual(r.rooms.map((x) => x.name), ['People', 'Nature', 'City', 'Mood']);
    const queries = r.rooms.flatMap((x) => x.queries);
    for (const q of ['beauty', 'round dance', 'date', 'master']) assert.ok(queries.includes(q), q);
  });

  it('refuses what would make names ambiguous or empty', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ rooms: [] }, /at least one room/],
      [{ rooms: [{ name: 'A', queries: ['x'] }, { name: 'a', queries: ['y'] }] }, /two rooms are both called "a"/],
      [{ rooms: [{ name: 'A', queries: ['x'] }, { name: 'B', queries: ['x '] }] }, /the query "x" appears twice/],
      [{ rooms: [{ name: 'A', queries: [] }] }, /non-empty list of "queries"/],
      [{ rooms: [{ name: '??', queries: ['x'] }] }, /needs a letter or digit/],
      [{ rooms: [{ name: 'A', queries: [''] }] }, /each query must be a text/],
      [{ templates: ['no slot'], rooms: [{ name: 'A', queries: ['x'] }] }, /with \{\} where the query goes/],
    ];
    for (const [json, message] of bad) assert.throws(() => parseRooms(json), message);
  });
});
