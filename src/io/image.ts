/**
 * Generator images ([N, 3, H, W] floats, nominally in [-1, 1]) to 8-bit RGB and PNG files, converted
 * exactly as NVIDIA's generate.py does, so the same latent gives the same PNG bytes of pixels:
 * `(img * 127.5 + 128).clamp(0, 255).to(torch.uint8)`.
 */
import sharp from 'sharp';
import { shapeString, type Tensor } from '../core/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { pixelByte } from './pixels.js';

/** Image `index` of an [N, 3, H, W] batch as interleaved 8-bit RGB (H·W·3 bytes, rows top to bottom; pixelByte). */
export function imageToRgb8(images: Tensor, index: number): Uint8Array {
  const [n, c, h, w] = checkImages(images);
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new RangeError(`image index ${index} is outside the batch of ${n}`);
  const plane = h * w;
  const rgb = new Uint8Array(plane * c);
  const base = index * c * plane;
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < plane; p++) rgb[p * c + ch] = pixelByte(images.data[base + ch * plane + p]!);
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

/** Interleaved 8-bit RGB (H·W·3 bytes) as a PNG file, atomically. */
export async function writeRgbPng(path: string, rgb: Uint8Array, width: number, height: number): Promise<void> {
  await writeFileAtomic(path, await rgbToPng(rgb, width, height, 3));
}

/** Interleaved 8-bit RGB as PNG bytes. */
export function rgbToPng(rgb: Uint8Array, width: number, height: number, channels: 3): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels } }).png().toBuffer();
}

export function checkImages(images: Tensor): [number, 3, number, number] {
  const [n, c, h, w] = images.shape;
  if (images.shape.length !== 4 || c !== 3 || n === 0) {
    throw new Error(`expected RGB images [N, 3, H, W] with N ≥ 1, got ${shapeString(images.shape)}`);
  }
  return [n!, 3, h!, w!];
}
