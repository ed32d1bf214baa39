// `ganvec embed`: CLIP features of texts, image files or a .npy array, written as .npy for other tools.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import {
  ImageSetError, loadClip, loadPhotos, readImageFile, readNpy, shapeString, TextTooLongError, unitRows, writeNpy,
  type Clip, type Device, type Tensor,
} from '../index.js';
import { deviceOption } from './options.js';
import { downloadProgress } from './progress.js';
import { UsageError } from './run.js';

interface EmbedFlags {
  device: Device;
  clip: string;
  text?: string[];
  image?: string[];
  npyImage?: string;
  raw?: boolean;
  normalize?: boolean;
  truncate?: boolean;
  batch: string;
  out: string;
}

export function registerEmbed(program: Command): void {
  program
    .command('embed')
    .description('Compute CLIP features of texts, image files or an image array, and save them as a .npy [N, embed] array.')
    .requiredOption('--clip <model>', 'CLIP model: a registered name (e.g. ViT-B/32) or a checkpoint file (.pt, .safetensors, .bin)')
    .option('--text <texts...>', 'texts to encode (quote each one)')
    .option('--image <files...>', 'image files to encode (resized so the short side fits, centre-cropped)')
    .option('--npy-image <file>', 'a float32 .npy [N, 3, H, W] of generator images in [-1, 1]')
    .option('--raw', 'with --npy-image: the array is already CLIP input [N, 3, R, R] (normalised); feed it as it is')
    .option('--normalize', 'L2-normalise each feature row')
    .option('--truncate', 'cut texts that are too long for the context instead of failing')
    .option('--batch <n>', 'inputs per ONNX Runtime run', '8')
    .addOption(deviceOption())
    .requiredOption('--out <file>', 'where to write the features (.npy)')
    .addHelpText(
      'after',
      `
Exactly one of --text, --image or --npy-image. Features are not normalised unless --normalize is given.

Examples:
  $ ganvec embed --clip ViT-B/32 --text "a photo of a face" "a pixar character" --out text.npy
  $ ganvec embed --clip ViT-B/32 --image a.jpg b.png --normalize --out photos.npy
  $ ganvec embed --clip clip.pt --npy-image generated.npy --out gen.npy`,
    )
    .action(async (flags: EmbedFlags) => {
      const sources = [flags.text, flags.image, flags.npyImage].filter((s) => s !== undefined).length;
      if (sources !== 1) throw new UsageError('give exactly one of --text, --image or --npy-image');
      if (flags.raw && flags.npyImage === undefined) throw new UsageError('--raw only applies to --npy-image');
      const batch = /^\d+$/.test(flags.batch) ? Number(flags.batch) : NaN;
      if (!(batch >= 1)) throw new UsageError(`--batch must be a positive whole number, not "${flags.batch}"`);
      if (flags.npyImage !== undefined && !existsSync(flags.npyImage)) throw new UsageError(`no such file: ${flags.npyImage}`);
      // Read and decoded before the model loads, so a bad file fails at once.
      const photos = flags.image && (await readPhotos(flags.image));

      const clip = await loadClip(flags.clip, { batch, device: flags.device, downloads: downloadProgress() });
      try {
        let features = await encode(clip, flags, photos);
        if (flags.normalize) features = l2Normalized(features);
        await writeNpy(flags.out, features);
        process.stdout.write(`${flags.out}: ${shapeString(features.shape)} features from ${clip.name}\n`);
      } finally {
        await clip.release();
      }
    });
}

/** The files' bytes, each decoded in full as `adapt --images` does, so both accept the same images. */
async function readPhotos(files: string[]): Promise<Buffer[]> {
  const photos: Buffer[] = [];
  for (const file of files) {
    try {
      photos.push(await readImageFile(file));
    } catch (err) {
      if (err instanceof ImageSetError) throw new UsageError(`--image ${err.message}`);
      throw err;
    }
  }
  return photos;
}

async function encode(clip: Clip, flags: EmbedFlags, photos: Buffer[] | undefined): Promise<Tensor> {
  if (photos) return clip.encodeImage(await loadPhotos(photos, clip.resolution));
  if (flags.text) {
    try {
      return await clip.encodeText(flags.text, { truncate: flags.truncate === true });
    } catch (err) {
      if (err instanceof TextTooLongError) throw new UsageError(`${err.message}; shorten it or pass --truncate`);
      throw err;
    }
  }
  const file = flags.npyImage!;
  const images = await readNpy(file);
  const r = clip.resolution;
  if (!(images.data instanceof Float32Array) || images.shape.length !== 4 || images.shape[1] !== 3 || images.shape[0] === 0) {
    throw new UsageError(`${file}: expected a float array [N, 3, H, W], got ${shapeString(images.shape)}`);
  }
  const pixels = images as Tensor;
  if (!flags.raw) return clip.encodeGeneratorImage(pixels);
  if (pixels.shape[2] !== r || pixels.shape[3] !== r) {
    throw new UsageError(`${file}: --raw input must be [N, 3, ${r}, ${r}] for ${clip.name}, got ${shapeString(pixels.shape)}`);
  }
  return clip.encodeImage(pixels);
}

function l2Normalized(t: Tensor): Tensor {
  return { data: Float32Array.from(unitRows(t).flatMap((row) => Array.from(row))), shape: t.shape };
}
