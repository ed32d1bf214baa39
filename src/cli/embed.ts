// `ganvec embed`: CLIP features of texts, image files or a .npy array, written as .npy for other tools.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import {
  ImageSetError, loadClip, loadPhotos, NpzWriter, readImageFile, readNpy, shapeString, TextTooLongError, unitRows, writeNpy,
  type Clip, type Device, type Tensor,
} from '../index.js';
import { clipOption, deviceOption, integerIn, threadsOption } from './options.js';
import { downloadProgress } from './progress.js';
import { UsageError } from './run.js';

interface EmbedFlags {
  device: Device;
  threads?: number;
  clip: string[];
  text?: string[];
  image?: string[];
  npyImage?: string;
  raw?: boolean;
  normalize?: boolean;
  truncate?: boolean;
  batch: number;
  out: string;
}

export function registerEmbed(program: Command): void {
  program
    .command('embed')
    .description('Compute CLIP features of texts, image files or an image array, and save them as a .npy [N, embed] array (an .npz of them for several CLIP models).')
    .addOption(clipOption())
    .option('--text <texts...>', 'texts to encode (quote each one)')
    .option('--image <files...>', 'image files to encode (resized so the short side fits, centre-cropped)')
    .option('--npy-image <file>', 'a float32 .npy [N, 3, H, W] of generator images in [-1, 1]')
    .option('--raw', 'with --npy-image: the array is already CLIP input [N, 3, R, R] (normalised); feed it as it is')
    .option('--normalize', 'L2-normalise each feature row')
    .option('--truncate', 'cut texts that are too long for the context instead of failing')
    .option('--batch <n>', 'inputs per ONNX Runtime run', integerIn({ min: 1 }), 8)
    .addOption(threadsOption())
    .addOption(deviceOption())
    .requiredOption('--out <file>', 'where to write the features: a .npy, or an .npz with one array per CLIP model (named after it)')
    .addHelpText(
      'after',
      `
Exactly one of --text, --image or --npy-image. Features are not normalised unless --normalize is given.
With several CLIP models (--clip ViT-B/32,ViT-B/16), --out is an .npz holding each model's [N, embed]
array under its name with "/" as "-" (ViT-B-32, ViT-B-16).

Examples:
  ganvec embed --clip ViT-B/32 --text "a photo of a face" "a pixar character" --out text.npy
  ganvec embed --clip ViT-B/32 --image a.jpg b.png --normalize --out photos.npy
  ganvec embed --clip ViT-B/32,ViT-B/16 --text "a sketch" --out sketch.npz
  ganvec embed --clip clip.pt --npy-image generated.npy --out gen.npy`,
    )
    .action(async (flags: EmbedFlags) => {
      const sources = [flags.text, flags.image, flags.npyImage].filter((s) => s !== undefined).length;
      if (sources !== 1) throw new UsageError('give exactly one of --text, --image or --npy-image');
      if (flags.raw && flags.npyImage === undefined) throw new UsageError('--raw only applies to --npy-image');
      const archive = extname(flags.out).toLowerCase() === '.npz';
      if (!archive && flags.clip.length > 1) throw new UsageError(`--out: ${flags.clip.length} CLIP models need an .npz (one array each), got ${flags.out}`);
      if (flags.npyImage !== undefined && !existsSync(flags.npyImage)) throw new UsageError(`no such file: ${flags.npyImage}`);
      // Read and decoded before the models load, so a bad file fails at once.
      const photos = flags.image && (await readPhotos(flags.image));

      const features = new Map<string, { clip: string; t: Tensor }>();
      for (const name of flags.clip) {
        const clip = await loadClip(name, { batch: flags.batch, threads: flags.threads, device: flags.device, downloads: downloadProgress() });
        try {
          if (features.has(arrayName(clip.name))) throw new UsageError(`--clip: ${clip.name} is given twice`);
          const raw = await encode(clip, flags, photos);
          features.set(arrayName(clip.name), { clip: clip.name, t: flags.normalize ? l2Normalized(raw) : raw });
        } finally {
          await clip.release();
        }
      }
      if (!archive) await writeNpy(flags.out, features.values().next().value!.t);
      else {
        const npz = new NpzWriter(flags.out);
        try {
          for (const [name, { t }] of features) npz.add(name, t);
        } catch (err) {
          npz.abandon();
          throw err;
        }
        npz.close();
      }
      for (const [name, { clip, t }] of features) {
        process.stdout.write(`${flags.out}${archive ? `:${name}` : ''}: ${shapeString(t.shape)} features from ${clip}\n`);
      }
    });
}

/** A CLIP model's name as an .npz entry: no folders inside the archive. */
function arrayName(clipName: string): string {
  return clipName.replace(/[^A-Za-z0-9._-]+/g, '-');
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
