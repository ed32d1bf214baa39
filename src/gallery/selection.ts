/**
 * Which assigned pictures a room shows: the best `perRoom` by score, greedily, skipping a picture whose
 * CLIP cosine to one already chosen for the room exceeds `maxSimilarity`, so a room is not a wall of
 * near-duplicates. Equal scores go in picture order.
 */
import type { Assignment } from './assignment.js';
import { dot } from './scoring.js';

export interface SelectionRule {
  perRoom: number;
  maxSimilarity: number;
}

/** One list per room (index = room), each best first. */
export function selectRoomPictures(
  assigned: readonly Assignment[], embeddings: readonly Float64Array[], rooms: number, rule: SelectionRule,
): Assignment[][] {
  const chosen: Assignment[][] = Array.from({ length: rooms }, () => []);
  const ranked = [...assigned].sort((a, b) => b.score - a.score || a.picture - b.picture);
  for (const a of ranked) {
    const room = chosen[a.room]!;
    if (room.length >= rule.perRoom) continue;
    const e = embeddings[a.picture]!;
    if (room.some((c) => dot(e, embeddings[c.picture]!) > rule.maxSimilarity)) continue;
    room.push(a);
  }
  return chosen;
}
