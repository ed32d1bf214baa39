/**
 * Generator images ([N, 3, H, W] floats, nominally in [-1, 1]) to 8-bit RGB and PNG files, converted
 * exactly as NVIDIA's generate.py does, so the same latent gives the same PNG bytes of pixels:
 * `(img * 127.5 + 128).clamp(0, 255).to(torch.uint8)`.
 */
import sharp from 'sharp';
import { shapeString, type Tensor } from '../core/tensor.js';
import { writeFileAtomic } from './atomic.js';

/**
 * Image `index` of an [N, 3, H, W] batch as interleaved 8-bit RGB (H·W·3 bytes, rows top to bottom).
 * Each step is rounded to float32 as PyTorch computes it; the cast truncates toward zero, so
 * +128 (not +127.5) puts mid-grey exactly on 128 and −1…1 spans 0.5…255.5 before the clamp.
 */
export function imageToRgb8(images: Tensor, index: number): Uint8Array {
  const [n, c, h, w] = checkImages(images);
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new RangeError(`image index ${index} is outside the batch of ${n}`);
  const plane = h * w;
  const rgb = new Uint8Array(plane * c);
  const base = index * c * plane;
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < plane; p++) {
      const v = Math.fround(Math.fround(images.data[base + ch * plane + p]! * 127.5) + 128);
      // NaN fails both comparisons and becomes 0.
      rgb[p * c + ch] = v >= 255 ? 255 : v > 0 ? Math.trunc(v) : 0;
    }
  }
  return rgb;
}

/** Image `index` of an [N, 3, H, W] batch as PNG bytes. */
export async function imagesToPng(images: Tensor, index: number): Promise<Buffer> {
  const [, c, h, w] = checkImages(images);
  return rgbToPng(imageToRgb8(images, index), w, h, c);
}

/** Writes image `index` of a batch as a PNG file, atomically. */
export async function writeImagePng(path: string, images: Tensor, index: number): Promise<void> {
  await writeFileAtomic(path, await imagesToPng(images, index));
}

export interface GridOptions {
  /** Images per row; default ⌈√N⌉. Unfilled cells of the last row are black. */
  cols?: number;
}

/** Every image of a batch tiled row by row into one PNG file, written atomically. */
export async function writeImageGrid(path: string, images: Tensor, options: GridOptions = {}): Promise<{ rows: number; cols: number }> {
  const [n, c, h, w] = checkImages(images);
  const cols = Math.min(n, options.cols ?? Math.ceil(Math.sqrt(n)));
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`a grid needs at least one column, got ${options.cols}`);
  const rows = Math.ceil(n / cols);
  const width = cols * w;
  const grid = new Uint8Array(rows * h * width * c);
  for (let i = 0; i < n; i++) {
    const rgb = imageToRgb8(images, i);
    const left = (i % cols) * w;
    const top = Math.floor(i / cols) * h;
    for (let y = 0; y < h; y++) grid.set(rgb.subarray(y * w * c, (y + 1) * w * c), ((top + y) * width + left) * c);
  }
  await writeFileAtomic(path, await rgbToPng(grid, width, rows * h, c));
  return { rows, cols };
}

/** Interleaved 8-bit RGB (H·W·3 bytes) as a PNG file, atomically. */
export async function writeRgbPng(path: string, rgb: Uint8Array, width: number, height: number): Promise<void> {
  await writeFileAtomic(path, await rgbToPng(rgb, width, height, 3));
}

function rgbToPng(rgb: Uint8Array, width: number, height: number, channels: 3): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels } }).png().toBuffer();
}

function checkImages(images: Tensor): [number, 3, number, number] {
  const [n, c, h, w] = images.shape;
  if (images.shape.length !== 4 || c !== 3 || n === 0) {
    throw new Error(`expected RGB images [N, 3, H, W] with N ≥ 1, got ${shapeString(images.shape)}`);
  }
  return [n!, 3, h!, w!];
}
