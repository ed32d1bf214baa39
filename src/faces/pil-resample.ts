/**
 * The two resamplings of NVIDIA's FFHQ alignment, as Pillow computes them on 8-bit RGB, so an aligned
 * photo matches the dataset's recipe pixel for pixel (not "close to" it, as a different Lanczos would be):
 * `Image.resize(size, ANTIALIAS)` (separable Lanczos-3 with Pillow's 22-bit fixed-point weights, a
 * horizontal then a vertical pass through an 8-bit image) and `Image.transform(size, QUAD, quad, BILINEAR)`.
 * Also `Image.resize(size, BILINEAR)`, the same passes with the triangle filter: what torchvision's
 * Resize does to a PIL image (encoder4editing's input transform).
 */

/** An 8-bit RGB image, rows top to bottom, 3 bytes a pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const PRECISION_BITS = 32 - 8 - 2;
const LANCZOS_SUPPORT = 3;

/** A Pillow resampling filter: its support at scale 1 and its kernel. */
interface Filter {
  support: number;
  kernel: (x: number) => number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

const LANCZOS: Filter = {
  support: LANCZOS_SUPPORT,
  kernel: (x) => (x > -LANCZOS_SUPPORT && x < LANCZOS_SUPPORT ? sinc(x) * sinc(x / LANCZOS_SUPPORT) : 0),
};
const BILINEAR: Filter = { support: 1, kernel: (x) => Math.max(0, 1 - Math.abs(x)) };

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc: per output pixel, its first input and integer weights. */
function coefficients(inSize: number, outSize: number, filter: Filter): { first: Int32Array; count: Int32Array; weights: Int32Array; ksize: number } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) sum += k[x] = filter.kernel((x + xmin - center + 0.5) / filterScale);
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? k[x]! / sum : k[x]!;
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { first, count, weights, ksize };
}

function clip8(v: number): number {
  const s = Math.floor(v / (1 << PRECISION_BITS));
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

/** One separable pass along x (horizontal) or y, to `outSize` pixels; three channel sums at once. */
function pass(img: RgbImage, outSize: number, horizontal: boolean, filter: Filter): RgbImage {
  const { first, count, weights, ksize } = coefficients(horizontal ? img.width : img.height, outSize, filter);
  const width = horizontal ? outSize : img.width;
  const height = horizontal ? img.height : outSize;
  const out = new Uint8Array(width * height * 3);
  const src = img.data;
  const half = 1 << (PRECISION_BITS - 1);
  // Input pixels one tap apart: 3 bytes along a row, a row's bytes down a column.
  const tapStride = horizontal ? 3 : img.width * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = horizontal ? x : y;
      let at = horizontal ? (y * img.width + first[o]!) * 3 : (first[o]! * img.width + x) * 3;
      const k0 = o * ksize;
      const n = count[o]!;
      let r = half;
      let g = half;
      let b = half;
      for (let i = 0; i < n; i++, at += tapStride) {
        const w = weights[k0 + i]!;
        r += src[at]! * w;
        g += src[at + 1]! * w;
        b += src[at + 2]! * w;
      }
      const q = (y * width + x) * 3;
      out[q] = clip8(r);
      out[q + 1] = clip8(g);
      out[q + 2] = clip8(b);
    }
  }
  return { width, height, data: out };
}

function resize(img: RgbImage, width: number, height: number, filter: Filter): RgbImage {
  let out = img;
  if (width !== img.width) out = pass(out, width, true, filter);
  if (height !== img.height) out = pass(out, height, false, filter);
  return out;
}

/** `Image.resize((width, height), Image.ANTIALIAS)` on an RGB image. */
export function resizeLanczos(img: RgbImage, width: number, height: number): RgbImage {
  return resize(img, width, height, LANCZOS);
}

/** `Image.resize((width, height), Image.BILINEAR)` on an RGB image (antialiased when shrinking, as Pillow's is). */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  return resize(img, width, height, BILINEAR);
}

/**
 * `Image.transform((size, size), Image.QUAD, quad, Image.BILINEAR)`: output pixel centre (x+½, y+½) maps
 * bilinearly into the quad (corners NW, SW, SE, NE as x, y pairs); samples outside the input are black.
 * Pillow writes the interpolated value truncated to 8 bits, not rounded.
 */
export function quadTransform(img: RgbImage, size: number, quad: readonly number[]): RgbImage {
  const [x0, y0, swx, swy, sex, sey, nex, ney] = quad as [number, number, number, number, number, number, number, number];
  const as = 1 / size;
  const [a1, a2, a3] = [(nex - x0) * as, (swx - x0) * as, (sex - swx - nex + x0) * as * as];
  const [b1, b2, b3] = [(ney - y0) * as, (swy - y0) * as, (sey - swy - ney + y0) * as * as];
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const yy = y + 0.5;
    for (let x = 0; x < size; x++) {
      const xx = x + 0.5;
      let xin = x0 + a1 * xx + a2 * yy + a3 * xx * yy;
      let yin = y0 + b1 * xx + b2 * yy + b3 * xx * yy;
      if (xin < 0 || xin >= w || yin < 0 || yin >= h) continue;
      xin -= 0.5;
      yin -= 0.5;
      const xi = Math.floor(xin);
      const yi = Math.floor(yin);
      const dx = xin - xi;
      const dy = yin - yi;
      const c0 = (xi < 0 ? 0 : xi) * 3;
      const c1 = (xi + 1 >= w ? w - 1 : xi + 1) * 3;
      const r0 = (yi < 0 ? 0 : yi) * w * 3;
      const o = (y * size + x) * 3;
      if (yi + 1 < h) {
        const r1 = (yi + 1) * w * 3;
        for (let c = 0; c < 3; c++) {
          const v1 = data[r0 + c0 + c]! + (data[r0 + c1 + c]! - data[r0 + c0 + c]!) * dx;
          const v2 = data[r1 + c0 + c]! + (data[r1 + c1 + c]! - data[r1 + c0 + c]!) * dx;
          out[o + c] = v1 + (v2 - v1) * dy;
        }
      } else {
        for (let c = 0; c < 3; c++) out[o + c] = data[r0 + c0 + c]! + (data[r0 + c1 + c]! - data[r0 + c0 + c]!) * dx;
      }
    }
  }
  return { width: size, height: size, data: out };
}
