/**
 * Files of W latents: `.npy` of W [N, D], W+ [N, L, D] or one W+ [L, D], and NVIDIA's `projected_w.npz`
 * (projector.py's `np.savez(..., w=[1, L, D])`). A 2-D array with the generator's L rows is one W+ image,
 * never L images of W: projections are saved that way, and reading them as W silently draws L faces.
 */
import { extname } from 'node:path';
import { firstNonFinite, indexString, shapeString, type Tensor, type TensorData } from '../core/tensor.js';
import { readNpy } from '../io/npy.js';
import { NpzWriter, readNpz } from '../io/npz.js';

/** What a W file held, as rows the generator takes ([N, D] or [N, L, D]) and a phrase saying which. */
export interface WFile {
  rows: Tensor;
  /** e.g. `W+ [1, 18, 512] from projected_w.npz key "w"`. */
  read: string;
}

export class WFileError extends Error {}

/** NVIDIA's projector.py names the array `w`. */
const NPZ_KEY = 'w';

export async function readWFile(path: string, nLatent: number, wDim: number): Promise<WFile> {
  const fromNpz = extname(path).toLowerCase() === '.npz';
  let t: Tensor<TensorData>;
  if (fromNpz) {
    const arrays = readNpz(path);
    const w = arrays.get(NPZ_KEY);
    if (!w) throw new WFileError(`${path} has no array "${NPZ_KEY}" (it holds ${[...arrays.keys()].map((k) => `"${k}"`).join(', ') || 'nothing'}); NVIDIA's projected_w.npz stores W+ as "w"`);
    t = w;
  } else {
    t = await readNpy(path);
  }
  if (!(t.data instanceof Float32Array)) throw new WFileError(`${path}: latents must be floats, this array holds integers`);
  const data = t.data;
  const bad = firstNonFinite(data, (i) => indexString(t.shape, i));
  if (bad) throw new WFileError(`${path} ${bad}; latents must be finite`);
  const source = fromNpz ? `${path} key "${NPZ_KEY}"` : path;
  const shape = t.shape;
  if (shape.length === 3 && shape[1] === nLatent && shape[2] === wDim && shape[0]! > 0) {
    return { rows: { data, shape }, read: `W+ ${shapeString(shape)} (${shape[0]} image${shape[0] === 1 ? '' : 's'}) from ${source}` };
  }
  if (shape.length === 2 && shape[0] === nLatent && shape[1] === wDim) {
    return { rows: { data, shape: [1, nLatent, wDim] }, read: `W+ ${shapeString(shape)} (one image) from ${source}` };
  }
  if (shape.length === 2 && shape[1] === wDim && shape[0]! > 0) {
    return { rows: { data, shape }, read: `W ${shapeString(shape)} (${shape[0]} image${shape[0] === 1 ? '' : 's'}) from ${source}` };
  }
  throw new WFileError(
    `${source} has shape ${shapeString(shape)}; this generator takes W [N, ${wDim}], W+ [N, ${nLatent}, ${wDim}] or one W+ [${nLatent}, ${wDim}]`,
  );
}

/** W+ [N, L, D] → `.npz` with key `w`, as NVIDIA's projector.py writes it (and reads back with `--projected-w`). */
export function writeProjectedW(path: string, ws: Tensor): void {
  const writer = new NpzWriter(path);
  writer.add(NPZ_KEY, ws);
  writer.close();
}
