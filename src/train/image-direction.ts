/**
 * The CLIP-space direction from the frozen generator's domain to a few example images (DESIGN.md §5
 * "Few images"), in the order StyleGAN-NADA's `compute_img2img_direction` takes it: every embedding is
 * normalised first, the means are taken over unit vectors (and are not themselves renormalised), and
 * only their difference is normalised:
 *   Δ = normalise(mean_i E(target_i) − mean_j E(A(w_j)))
 * The photos are resized and centre-cropped like CLIP's preprocessing (loadPhotos); the generator
 * samples go through the training graph's differentiable preprocessing.
 */
import type { ImageSet } from '../io/image-folder.js';
import type { Clip } from '../clip/clip.js';
import { loadPhotos } from '../clip/preprocess.js';
import type { Generator } from '../generators/generator.js';
import { sourceMeanEmbedding, type SourceEmbeddingOptions } from './source-embeddings.js';
import { unitRows, unitVector } from './unit-vectors.js';

/** Unit CLIP embeddings of the set's images, one row each. */
export async function targetEmbeddings(clip: Clip, images: ImageSet): Promise<Float64Array[]> {
  const pixels = await loadPhotos(images.images.map((im) => im.bytes), clip.resolution);
  return unitRows(await clip.encodeImage(pixels));
}

export async function imageDirection(G: Generator, clip: Clip, images: ImageSet, options: SourceEmbeddingOptions = {}): Promise<Float32Array> {
  const targets = await targetEmbeddings(clip, images);
  const source = await sourceMeanEmbedding(G, clip, options);
  const delta = Float64Array.from(source, (s, j) => targets.reduce((sum, t) => sum + t[j]!, 0) / targets.length - s);
  return unitVector(delta);
}
