// `ganvec align`: a photo's faces cropped and rotated as the FFHQ dataset was made, ready to invert.
import type { Command } from 'commander';
import { extname } from 'node:path';
import { alignPhoto, NoFaceError, writeRgbPng } from '../index.js';
import { integerIn, numberIn } from './options.js';
import { UsageError } from './run.js';

interface AlignFlags {
  out: string;
  size: number;
  all?: boolean;
  minConfidence: number;
}

export function registerAlign(program: Command): void {
  program
    .command('align')
    .description('Find the faces in a photo and align them as FFHQ was aligned (eyes and mouth in fixed places), for `ganvec project`.')
    .argument('<photo>', 'photo file (JPEG, PNG, WebP, …)')
    .requiredOption('--out <file.png>', 'aligned image (with --all: <name>-0.png, <name>-1.png, … largest face first)')
    .option('--size <n>', 'side of the aligned image: the generator\'s size (FFHQ 1024)', integerIn({ min: 8, max: 4096 }), 1024)
    .option('--all', 'align every face found, not only the largest')
    .option('--min-confidence <p>', 'drop detections below this confidence', numberIn({ min: 0, max: 1 }), 0.5)
    .addHelpText('after', `
Faces and 68 landmarks come from @vladmandic/face-api (SSD-MobileNetV1 and its 68-point net, weights
inside the package, run on TensorFlow.js WebAssembly; about 1.5 s a photo). The crop is NVIDIA's
ffhq-dataset recreate_aligned_images: an oriented square from the eyes and mouth corners, shrink, crop,
reflect-padding with blur where the square leaves the photo, Pillow's QUAD transform to 4096 px and a
Lanczos resize to --size.

Examples:
  ganvec align me.jpg --out me-aligned.png
  ganvec align team.jpg --out faces.png --all --size 256`)
    .action(async (photo: string, flags: AlignFlags) => runAlign(photo, flags));
}

async function runAlign(photo: string, flags: AlignFlags): Promise<void> {
  if (extname(flags.out).toLowerCase() !== '.png') throw new UsageError(`--out ${flags.out}: the aligned image is written as PNG; name it .png`);
  let faces;
  try {
    faces = await alignPhoto(photo, { size: flags.size, all: flags.all, minConfidence: flags.minConfidence });
  } catch (err) {
    if (err instanceof NoFaceError) throw new UsageError(err.message);
    if ((err as Error).message?.includes('Input file is missing')) throw new UsageError(`${photo}: no such file`);
    if ((err as Error).message?.includes('unsupported image format')) throw new UsageError(`${photo}: not an image sharp can read`);
    throw err;
  }
  for (const [i, { face, image }] of faces.entries()) {
    const path = flags.all ? flags.out.replace(/\.png$/i, `-${i}.png`) : flags.out;
    await writeRgbPng(path, image.data, image.width, image.height);
    const b = face.box;
    process.stdout.write(`wrote ${path} (${image.width}×${image.height}): face at ${b.x.toFixed(0)},${b.y.toFixed(0)} ${b.width.toFixed(0)}×${b.height.toFixed(0)}, confidence ${face.score.toFixed(2)}\n`);
  }
}
