/**
 * What each frame of a video draws, for any generator family: W+ latents for a grid of cells and the
 * domain vector. A latent walk is gen_video.py's: each cell walks through its keyframe seeds with the
 * looped cubic spline (spline.ts), `wFrames` frames per keyframe, so the last frame leads back into the
 * first. A domain walk holds each cell's latent and moves the domain: from the original generator
 * (strength 0) to a domain (1), or from one domain to another.
 */
import type { Tensor } from '../core/tensor.js';
import type { Generator } from '../generators/generator.js';
import { toWPlus, truncate, zFromSeeds } from '../generators/latents.js';
import { loopedKeyframeWeights } from './spline.js';

export interface VideoFrame {
  /** W+ [cells, nLatent, wDim], cell (row r, column c) at index r·cols + c. */
  ws: Tensor;
  domain?: Float32Array;
}

export interface VideoPlan {
  cols: number;
  rows: number;
  frames: number;
  frame(index: number): VideoFrame;
}

export interface LatentWalkOptions {
  seeds: readonly number[];
  /** Grid columns and rows (gen_video.py's --grid W x H); default 1 × 1. */
  cols?: number;
  rows?: number;
  /** Keyframes per cell; default seeds / cells (which must then divide evenly). Seeds repeat to fill. */
  keyframes?: number;
  /** Frames between two keyframes (gen_video.py's --w-frames; its default 120). */
  wFrames?: number;
  truncation?: number;
  /** A domain applied to every frame. */
  domain?: Float32Array;
  /** Copies of the keyframes on each side that make the spline loop (gen_video.py: 2). */
  wraps?: number;
}

async function mappedWs(G: Generator, seeds: readonly number[], truncation: number): Promise<Tensor> {
  const ws = toWPlus(await G.mapping(zFromSeeds(seeds, G.styleDim)), G.nLatent);
  return truncation === 1 ? ws : truncate(ws, await G.wAvg(), truncation);
}

function gridSize(cols = 1, rows = 1): { cols: number; rows: number; cells: number } {
  if (!(Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0)) throw new RangeError(`a grid of ${cols}×${rows} cells`);
  return { cols, rows, cells: cols * rows };
}

export async function latentWalk(G: Generator, o: LatentWalkOptions): Promise<VideoPlan> {
  const { cols, rows, cells } = gridSize(o.cols, o.rows);
  const wFrames = o.wFrames ?? 120;
  if (!(Number.isInteger(wFrames) && wFrames > 0)) throw new RangeError(`frames per keyframe must be a positive whole number, got ${wFrames}`);
  if (o.seeds.length === 0) throw new RangeError('a latent walk needs at least one seed');
  if (o.keyframes === undefined && o.seeds.length % cells !== 0) {
    throw new RangeError(`${o.seeds.length} seeds do not divide into ${cells} grid cells: give a multiple of ${cells}, or the number of keyframes`);
  }
  const keyframes = o.keyframes ?? o.seeds.length / cells;
  if (!(Number.isInteger(keyframes) && keyframes > 0)) throw new RangeError(`keyframes must be a positive whole number, got ${keyframes}`);
  // gen_video.py: seed index (cell · keyframes + k), the seeds repeated as often as needed.
  const all = Array.from({ length: keyframes * cells }, (_, i) => o.seeds[i % o.seeds.length]!);
  const keys = await mappedWs(G, all, o.truncation ?? 1);
  const weightsAt = loopedKeyframeWeights(keyframes, o.wraps ?? 2);
  const row = G.nLatent * G.styleDim;
  return {
    cols,
    rows,
    frames: keyframes * wFrames,
    frame(index) {
      const w = weightsAt(index / wFrames);
      const data = new Float32Array(cells * row);
      const acc = new Float64Array(row);
      for (let c = 0; c < cells; c++) {
        acc.fill(0);
        for (let k = 0; k < keyframes; k++) {
          const weight = w[k]!;
          if (weight === 0) continue;
          const key = keys.data.subarray((c * keyframes + k) * row, (c * keyframes + k + 1) * row);
          for (let j = 0; j < row; j++) acc[j]! += weight * key[j]!;
        }
        data.set(acc, c * row);
      }
      return { ws: { data, shape: [cells, G.nLatent, G.styleDim] }, domain: o.domain };
    },
  };
}

export interface DomainWalkOptions {
  /** One seed per cell (repeated to fill the grid). */
  seeds: readonly number[];
  cols?: number;
  rows?: number;
  frames: number;
  truncation?: number;
  /** Where the walk starts; omitted = the original generator. */
  from?: Float32Array;
  to: Float32Array;
}

export async function domainWalk(G: Generator, o: DomainWalkOptions): Promise<VideoPlan> {
  const { cols, rows, cells } = gridSize(o.cols, o.rows);
  if (!(Number.isInteger(o.frames) && o.frames >= 2)) throw new RangeError(`a domain walk needs at least 2 frames, got ${o.frames}`);
  if (o.seeds.length === 0) throw new RangeError('a domain walk needs at least one seed');
  if (o.from && o.from.length !== o.to.length) throw new RangeError(`the two domains have ${o.from.length} and ${o.to.length} values`);
  const ws = await mappedWs(G, Array.from({ length: cells }, (_, i) => o.seeds[i % o.seeds.length]!), o.truncation ?? 1);
  return {
    cols,
    rows,
    frames: o.frames,
    frame(index) {
      const s = index / (o.frames - 1);
      const domain = o.to.map((b, i) => (o.from ? (1 - s) * o.from[i]! : 0) + s * b);
      return { ws, domain };
    },
  };
}
