/**
 * Face alignment as the FFHQ dataset was made (NVIDIA's ffhq-dataset, download_ffhq.py
 * `recreate_aligned_images`, rotate_level=True, no random shift): from the eye and mouth landmarks an
 * oriented square (quad), then shrink, crop, reflect-pad with a blur and a fade to the median, the quad
 * transform to `transformSize` and a Lanczos resize to the output size. Every step follows the reference's
 * arithmetic (NumPy's rint, float32 padding, SciPy's gaussian_filter, Pillow's resamplings).
 */
import { quadTransform, resizeLanczos, type RgbImage } from './pil-resample.js';

/** 68 landmarks in dlib's layout, as x, y pairs (136 numbers). */
export type Landmarks68 = ArrayLike<number>;

export interface AlignOptions {
  /** Side of the aligned image (the generator's size). */
  outputSize: number;
  /** Side of the quad transform before the final resize; the reference's 4096. */
  transformSize?: number;
}

/** The oriented crop square: corners NW, SW, SE, NE (x, y pairs) and its side. */
export interface FaceQuad {
  quad: number[];
  size: number;
}

type Point = [number, number];

function mean(lm: ArrayLike<number>, from: number, to: number): Point {
  let x = 0;
  let y = 0;
  for (let i = from; i < to; i++) {
    x += lm[2 * i]!;
    y += lm[2 * i + 1]!;
  }
  return [x / (to - from), y / (to - from)];
}

/** The points the crop is built from: each eye's centre (landmarks 36–41, 42–47) and the mouth's (corners 48, 54). */
export function faceFeatures(lm: ArrayLike<number>): { eyeLeft: Point; eyeRight: Point; mouth: Point } {
  return { eyeLeft: mean(lm, 36, 42), eyeRight: mean(lm, 42, 48), mouth: [(lm[96]! + lm[108]!) * 0.5, (lm[97]! + lm[109]!) * 0.5] };
}

/** The reference's oriented crop rectangle from eyes (36–41, 42–47) and mouth corners (48, 54). */
export function ffhqQuad(lm: Landmarks68): FaceQuad {
  const { eyeLeft, eyeRight, mouth: mouthAvg } = faceFeatures(lm);
  const eyeAvg: Point = [(eyeLeft[0] + eyeRight[0]) * 0.5, (eyeLeft[1] + eyeRight[1]) * 0.5];
  const eyeToEye: Point = [eyeRight[0] - eyeLeft[0], eyeRight[1] - eyeLeft[1]];
  const eyeToMouth: Point = [mouthAvg[0] - eyeAvg[0], mouthAvg[1] - eyeAvg[1]];
  // x = eye_to_eye - flipud(eye_to_mouth) * [-1, 1]
  let x: Point = [eyeToEye[0] + eyeToMouth[1], eyeToEye[1] - eyeToMouth[0]];
  const len = Math.hypot(x[0], x[1]);
  const scale = Math.max(Math.hypot(...eyeToEye) * 2.0, Math.hypot(...eyeToMouth) * 1.8);
  x = [(x[0] / len) * scale, (x[1] / len) * scale];
  const y: Point = [-x[1], x[0]];
  const c: Point = [eyeAvg[0] + eyeToMouth[0] * 0.1, eyeAvg[1] + eyeToMouth[1] * 0.1];
  const quad = [c[0] - x[0] - y[0], c[1] - x[1] - y[1], c[0] - x[0] + y[0], c[1] - x[1] + y[1], c[0] + x[0] + y[0], c[1] + x[1] + y[1], c[0] + x[0] - y[0], c[1] + x[1] - y[1]];
  return { quad, size: Math.hypot(x[0], x[1]) * 2 };
}

/** NumPy's rint: halves to even. */
function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function bounds(quad: readonly number[]): [number, number, number, number] {
  const xs = [quad[0]!, quad[2]!, quad[4]!, quad[6]!];
  const ys = [quad[1]!, quad[3]!, quad[5]!, quad[7]!];
  return [Math.floor(Math.min(...xs)), Math.floor(Math.min(...ys)), Math.ceil(Math.max(...xs)), Math.ceil(Math.max(...ys))];
}

function shift(quad: number[], dx: number, dy: number): number[] {
  return quad.map((v, i) => v + (i % 2 === 0 ? dx : dy));
}

function crop(img: RgbImage, left: number, top: number, right: number, bottom: number): RgbImage {
  const width = right - left;
  const height = bottom - top;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(((top + y) * img.width + left) * 3, ((top + y) * img.width + right) * 3), y * width * 3);
  return { width, height, data };
}

/** NumPy's 'reflect' index (mirror without repeating the edge), for any distance outside [0, n). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** SciPy's 'reflect' index (mirror repeating the edge: d c b a | a b c d). */
function symmetric(i: number, n: number): number {
  const period = 2 * n;
  const m = ((i % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

/** scipy.ndimage.gaussian_filter(img, [sigma, sigma, 0]) on float32 HWC (truncate 4, mode reflect). */
function gaussianBlur(img: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const radius = Math.trunc(4 * sigma + 0.5);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += kernel[i + radius] = Math.exp((-0.5 * i * i) / (sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= sum;
  const along = (src: Float32Array, vertical: boolean): Float32Array => {
    const out = new Float32Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          let acc = 0;
          for (let k = -radius; k <= radius; k++) {
            const sx = vertical ? x : symmetric(x + k, width);
            const sy = vertical ? symmetric(y + k, height) : y;
            acc += src[(sy * width + sx) * 3 + c]! * kernel[k + radius]!;
          }
          out[(y * width + x) * 3 + c] = acc;
        }
      }
    }
    return out;
  };
  return along(along(img, true), false);
}

function median(values: Float32Array): number {
  const sorted = Float32Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * Reflect-pads by [left, top, right, bottom], blurs toward the border (σ = qsize · 0.02) and fades to the
 * per-channel median there, so the quad may reach outside the photo without hard edges.
 */
function padWithBlur(img: RgbImage, pad: [number, number, number, number], qsize: number): RgbImage {
  const [left, top, right, bottom] = pad;
  const w = img.width + left + right;
  const h = img.height + top + bottom;
  const f = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = reflect(y - top, img.height);
    for (let x = 0; x < w; x++) {
      const s = (sy * img.width + reflect(x - left, img.width)) * 3;
      f.set(img.data.subarray(s, s + 3), (y * w + x) * 3);
    }
  }
  const mask = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const my = 1 - Math.min(Math.fround(y / top), Math.fround((h - 1 - y) / bottom));
    for (let x = 0; x < w; x++) {
      mask[y * w + x] = Math.max(1 - Math.min(Math.fround(x / left), Math.fround((w - 1 - x) / right)), my);
    }
  }
  const blurred = gaussianBlur(f, w, h, qsize * 0.02);
  for (let i = 0; i < mask.length; i++) {
    const m = clip01(mask[i]! * 3 + 1);
    for (let c = 0; c < 3; c++) f[i * 3 + c] = f[i * 3 + c]! + (blurred[i * 3 + c]! - f[i * 3 + c]!) * m;
  }
  const medians = [0, 1, 2].map((c) => median(f.filter((_, i) => i % 3 === c)));
  const out = new Uint8Array(w * h * 3);
  for (let i = 0; i < mask.length; i++) {
    const m = clip01(mask[i]!);
    for (let c = 0; c < 3; c++) {
      const v = Math.fround(f[i * 3 + c]! + (medians[c]! - f[i * 3 + c]!) * m);
      out[i * 3 + c] = Math.min(Math.max(rint(v), 0), 255);
    }
  }
  return { width: w, height: h, data: out };
}

/** The FFHQ-aligned face of `photo` for its 68 landmarks. */
export function alignFace(photo: RgbImage, lm: Landmarks68, options: AlignOptions): RgbImage {
  const outputSize = options.outputSize;
  const transformSize = options.transformSize ?? 4096;
  let { quad, size: qsize } = ffhqQuad(lm);
  let img = photo;

  const shrink = Math.floor((qsize / outputSize) * 0.5);
  if (shrink > 1) {
    img = resizeLanczos(img, rint(img.width / shrink), rint(img.height / shrink));
    quad = quad.map((v) => v / shrink);
    qsize /= shrink;
  }

  const border = Math.max(rint(qsize * 0.1), 3);
  const b = bounds(quad);
  const cropBox = [Math.max(b[0] - border, 0), Math.max(b[1] - border, 0), Math.min(b[2] + border, img.width), Math.min(b[3] + border, img.height)] as const;
  if (cropBox[2] - cropBox[0] < img.width || cropBox[3] - cropBox[1] < img.height) {
    img = crop(img, ...cropBox);
    quad = shift(quad, -cropBox[0], -cropBox[1]);
  }

  const p = bounds(quad);
  let pad: [number, number, number, number] = [Math.max(-p[0] + border, 0), Math.max(-p[1] + border, 0), Math.max(p[2] - img.width + border, 0), Math.max(p[3] - img.height + border, 0)];
  if (Math.max(...pad) > border - 4) {
    const least = rint(qsize * 0.3);
    pad = pad.map((v) => Math.max(v, least)) as typeof pad;
    img = padWithBlur(img, pad, qsize);
    quad = shift(quad, pad[0], pad[1]);
  }

  img = quadTransform(img, transformSize, quad.map((v) => v + 0.5));
  return outputSize < transformSize ? resizeLanczos(img, outputSize, outputSize) : img;
}
