/**
 * A photo file → its FFHQ-aligned faces: decode (EXIF orientation applied), find faces and landmarks,
 * align each. The largest face comes first.
 */
import sharp from 'sharp';
import type { Tensor } from '../core/tensor.js';
import { detectFaces, type DetectedFace, type DetectOptions } from './face-detector.js';
import { alignFace } from './ffhq-align.js';
import type { RgbImage } from './pil-resample.js';

export interface AlignedFace {
  face: DetectedFace;
  image: RgbImage;
}

export interface AlignPhotoOptions extends DetectOptions {
  /** Side of each aligned image (the generator's size). */
  size: number;
  /** Every face, not only the largest. */
  all?: boolean;
}

export class NoFaceError extends Error {}

export async function readRgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

export async function alignPhoto(input: string | Buffer, options: AlignPhotoOptions): Promise<AlignedFace[]> {
  const photo = await readRgb(input);
  const faces = await detectFaces(photo, options);
  if (faces.length === 0) throw new NoFaceError(`${typeof input === 'string' ? input : 'the photo'}: no face found (detector confidence ≥ ${options.minConfidence ?? 0.5})`);
  return (options.all ? faces : faces.slice(0, 1)).map((face) => ({ face, image: alignFace(photo, face.landmarks, { outputSize: options.size }) }));
}

/** 8-bit RGB → a [1, 3, H, W] image in [-1, 1], the generator's range (x / 127.5 − 1). */
export function rgbToImageTensor(img: RgbImage): Tensor {
  const plane = img.width * img.height;
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[c * plane + p] = img.data[p * 3 + c]! / 127.5 - 1;
  return { data, shape: [1, 3, img.height, img.width] };
}
