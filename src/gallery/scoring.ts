/**
 * How well each picture matches each query: the cosine between the picture's unit CLIP embedding and the
 * query's template ensemble (CLIP's zero-shot recipe: the query put into every template, each embedding
 * normalised, averaged, normalised again).
 */
import { fillTemplates } from '../train/prompt-templates.js';
import type { TextEncoder } from '../train/text-direction.js';
import { unitRows } from '../train/unit-vectors.js';

/** One unit vector per query, in order. */
export async function queryEnsembles(clip: TextEncoder, queries: readonly string[], templates: readonly string[]): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const query of queries) {
    const rows = unitRows(await clip.encodeText(fillTemplates(templates, query)));
    const mean = new Float64Array(rows[0]!.length);
    for (const row of rows) row.forEach((x, j) => (mean[j]! += x / rows.length));
    const length = Math.sqrt(dot(mean, mean));
    if (!(length > 0)) throw new Error(`the query "${query}" has no direction in CLIP space (its template embeddings cancel out)`);
    out.push(mean.map((x) => x / length));
  }
  return out;
}

/** Scores [pictures × queries], row-major: cosine of unit rows. */
export interface ScoreMatrix {
  data: Float64Array;
  pictures: number;
  queries: number;
}

export function scoreMatrix(pictures: readonly Float64Array[], queries: readonly Float64Array[]): ScoreMatrix {
  const data = new Float64Array(pictures.length * queries.length);
  pictures.forEach((p, i) => queries.forEach((q, k) => (data[i * queries.length + k] = dot(p, q))));
  return { data, pictures: pictures.length, queries: queries.length };
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
