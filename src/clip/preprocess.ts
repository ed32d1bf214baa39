/**
 * Getting images into CLIP's input space: [N, 3, R, R], resized so the short side is R, centre-cropped,
 * scaled to [0, 1] and normalised with CLIP's per-channel mean and std (openai/CLIP `_transform`).
 *
 * Generator images ([-1, 1]) go through a graph, differentiably, as the reference adapters do it with
 * PyTorch tensors: bicubic `F.interpolate(mode='bicubic', align_corners=False)` (a = −0.75, half-pixel
 * centres, edge-clamped taps, no antialias). A resize of fixed sizes is linear, so it is two constant
 * matrices, rows then columns: `Rh @ x @ Rwᵀ`, with the centre crop folded into them.
 *
 * Photos from disk are decoded and resized by sharp (libvips) instead. Its `cubic` kernel is Catmull-Rom
 * (a = −0.5, the a of PIL's BICUBIC) and it antialiases when shrinking, as PIL does, but the two do not
 * agree pixel for pixel; exactness to PIL is not needed for photos that only steer a direction.
 */
import sharp from 'sharp';
import type { Graph, Value } from '../engine/graph.js';
import { add, matmul, mul } from '../engine/ops.js';
import { shapeString, type Tensor } from '../core/tensor.js';

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** PyTorch's bicubic coefficient a. */
const CUBIC_A = -0.75;

/** The cubic convolution kernel for |x| ≤ 1 and 1 < |x| < 2. */
function cubicNear(x: number): number {
  return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
}
function cubicFar(x: number): number {
  return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
}

/**
 * The [outSize, inSize] matrix of a 1-D bicubic resize as `F.interpolate(mode='bicubic',
 * align_corners=False)` computes it for an explicit output size: source = (i + 0.5)·in/out − 0.5, four
 * taps around floor(source), indices clamped to the edge (so an edge pixel may collect several weights).
 * The scale and source position are rounded to float32 as PyTorch computes them.
 */
export function bicubicResizeMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = Math.fround(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    const source = Math.fround(Math.fround(scale * (i + 0.5)) - 0.5);
    const base = Math.floor(source);
    const t = source - base;
    const weights = [cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)];
    weights.forEach((w, k) => {
      const j = Math.min(Math.max(base - 1 + k, 0), inSize - 1);
      m[i * inSize + j]! += w;
    });
  }
  return m;
}

/** Python's round(): halves go to the even neighbour (torchvision's centre crop uses it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision `Resize(R)` then `CenterCrop(R)` on an H×W image as two matrices: rows [R, H] and the
 * transposed columns [W, R]. The short side becomes R, the long side int(R·long/short), and the crop
 * starts at round((resized − R) / 2).
 */
export function resizeCropMatrices(height: number, width: number, resolution: number): { rows: Tensor; colsT: Tensor } {
  const short = Math.min(height, width);
  const resizedH = height === short ? resolution : Math.floor((resolution * height) / short);
  const resizedW = width === short ? resolution : Math.floor((resolution * width) / short);
  const crop = (inSize: number, resized: number): Float32Array => {
    const start = roundHalfEven((resized - resolution) / 2);
    return bicubicResizeMatrix(inSize, resized).subarray(start * inSize, (start + resolution) * inSize);
  };
  const rows = crop(height, resizedH); // [R, H]
  const cols = crop(width, resizedW); // [R, W]
  const colsT = new Float32Array(width * resolution);
  for (let i = 0; i < resolution; i++) for (let j = 0; j < width; j++) colsT[j * resolution + i] = cols[i * width + j]!;
  return { rows: { data: rows.slice(), shape: [resolution, height] }, colsT: { data: colsT, shape: [width, resolution] } };
}

/** (x+1)/2 followed by (y − mean)/std, as one x·a + b per channel: a = 0.5/std, b = (0.5 − mean)/std. */
const GENERATOR_SCALE = Float32Array.from(CLIP_STD, (s) => 0.5 / s);
const GENERATOR_SHIFT = Float32Array.from(CLIP_STD, (s, i) => (0.5 - CLIP_MEAN[i]!) / s);

/** One pair of matrices per input size and resolution, so graphs that preprocess twice store them once. */
const matricesCache = new Map<string, { rows: Tensor; colsT: Tensor }>();

/**
 * Generator images [N, 3, H, W] in [-1, 1] → CLIP input [N, 3, R, R]: (x+1)/2, bicubic resize of the short
 * side to R, centre crop, normalise. Every row of a resize matrix sums to 1, so (x+1)/2 and the
 * normalisation commute with the resize and fold into one per-channel x·a + b after it.
 */
export function generatorImageToClip(g: Graph, images: Value, resolution: number): Value {
  const [, c, h, w] = images.shape as [number, number, number, number];
  if (images.shape.length !== 4 || c !== 3) throw new Error(`generator images must be [N, 3, H, W], got ${shapeString(images.shape)}`);
  const key = `${h}x${w}:${resolution}`;
  let matrices = matricesCache.get(key);
  if (!matrices) {
    matrices = resizeCropMatrices(h, w, resolution);
    matricesCache.set(key, matrices);
  }
  const { rows, colsT } = matrices;
  const resized = matmul(matmul(g.constant(rows.data, rows.shape), images), g.constant(colsT.data, colsT.shape)); // [N, 3, R, R]
  return add(mul(resized, g.constant(GENERATOR_SCALE, [1, 3, 1, 1])), g.constant(GENERATOR_SHIFT, [1, 3, 1, 1]));
}

/**
 * Image files (or their bytes) → CLIP input [N, 3, R, R]. Each is turned upright by its EXIF orientation, converted to
 * sRGB with 3 channels (grey is replicated, CMYK and ICC-tagged images converted), and any alpha is
 * flattened onto white: transparent pixels hold arbitrary colour (PIL's convert("RGB") just drops alpha
 * and shows it, often black), and white is what a viewer shows. Then resize so the short side is R,
 * centre crop and normalise.
 */
export async function loadPhotos(paths: ReadonlyArray<string | Buffer>, resolution: number): Promise<Tensor> {
  const plane = resolution * resolution;
  const out = new Float32Array(paths.length * 3 * plane);
  for (const [i, path] of paths.entries()) {
    const { data, info } = await sharp(path)
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(resolution, resolution, { fit: 'cover', position: 'centre', kernel: 'cubic' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== resolution || info.height !== resolution) {
      throw new Error(`${typeof path === 'string' ? path : `image ${i}`}: decoded to ${info.width}x${info.height} with ${info.channels} channels; expected ${resolution}x${resolution} RGB`);
    }
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < 3; ch++) {
        out[(i * 3 + ch) * plane + p] = (data[p * 3 + ch]! / 255 - CLIP_MEAN[ch]!) / CLIP_STD[ch]!;
      }
    }
  }
  return { data: out, shape: [paths.length, 3, resolution, resolution] };
}
