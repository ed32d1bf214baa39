/**
 * Each picture goes to at most one room: the room of its best query, when that score is at least
 * `minScore` and beats the best score of any other room by at least `margin` (and strictly, so an exact
 * tie between rooms is always left out). The picture is named after that query; two queries of the same
 * room that tie exactly name it after the one listed first.
 */
import type { ScoreMatrix } from './scoring.js';

export interface AssignmentRule {
  /** Lowest accepted cosine to the best query. */
  minScore: number;
  /** How far the best query must beat every other room's best query. */
  margin: number;
}

export interface Assignment {
  picture: number;
  room: number;
  query: number;
  score: number;
  /** Best score minus the best score in any other room (Infinity with one room). */
  margin: number;
}

/** `queryRoom[k]` is the room of query k. Returns the assigned pictures in picture order. */
export function assignRooms(scores: ScoreMatrix, queryRoom: readonly number[], rule: AssignmentRule): Assignment[] {
  if (queryRoom.length !== scores.queries) throw new Error(`assignRooms: ${scores.queries} queries scored but ${queryRoom.length} given rooms`);
  const rooms = Math.max(...queryRoom) + 1;
  const out: Assignment[] = [];
  for (let i = 0; i < scores.pictures; i++) {
    const best = new Float64Array(rooms).fill(-Infinity);
    const bestQuery = new Int32Array(rooms).fill(-1);
    for (let k = 0; k < scores.queries; k++) {
      const s = scores.data[i * scores.queries + k]!;
      const r = queryRoom[k]!;
      if (s > best[r]!) (best[r] = s), (bestQuery[r] = k);
    }
    let room = 0;
    for (let r = 1; r < rooms; r++) if (best[r]! > best[room]!) room = r;
    let second = -Infinity;
    for (let r = 0; r < rooms; r++) if (r !== room && best[r]! > second) second = best[r]!;
    const score = best[room]!;
    const margin = score - second;
    if (!(score >= rule.minScore) || !(margin > 0) || margin < rule.margin) continue;
    out.push({ picture: i, room, query: bestQuery[room]!, score, margin });
  }
  return out;
}
