/**
 * The image to project, prepared as NVIDIA's projector.py run_projection does: centre-cropped to a square
 * and resized to the generator's size with Lanczos (Pillow's, see faces/pil-resample.ts), then to [-1, 1].
 */
import type { Tensor } from '../core/tensor.js';
import { readRgb, rgbToImageTensor } from '../faces/align-photo.js';
import { resizeLanczos, type RgbImage } from '../faces/pil-resample.js';

export function squareTarget(img: RgbImage, size: number): RgbImage {
  const side = Math.min(img.width, img.height);
  const left = (img.width - side) >> 1;
  const top = (img.height - side) >> 1;
  let square = img;
  if (img.width !== img.height) {
    const data = new Uint8Array(side * side * 3);
    for (let y = 0; y < side; y++) data.set(img.data.subarray(((top + y) * img.width + left) * 3, ((top + y) * img.width + left + side) * 3), y * side * 3);
    square = { width: side, height: side, data };
  }
  return side === size ? square : resizeLanczos(square, size, size);
}

/** An image file → [1, 3, size, size] in [-1, 1]. */
export async function readTarget(input: string | Buffer, size: number): Promise<Tensor> {
  return rgbToImageTensor(squareTarget(await readRgb(input), size));
}
