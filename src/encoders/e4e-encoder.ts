/**
 * An e4e checkpoint as one ONNX session: an aligned face in, W+ out, in a single forward pass. The input
 * is prepared as e4e's inference transform does (Resize((256, 256)) of the PIL image, ToTensor,
 * Normalize(0.5, 0.5)), and a generator is checked against the one the encoder was trained for before the
 * (large) session is built.
 */
import type { Tensor } from '../core/tensor.js';
import { Graph } from '../engine/graph.js';
import { Session, type SessionOptions } from '../engine/session.js';
import { rgbToImageTensor } from '../faces/align-photo.js';
import { resizeBilinear, type RgbImage } from '../faces/pil-resample.js';
import { e4eEncode, e4eLayout, readE4e, type E4eLayout, type E4eWeights } from './e4e.js';

/** EncodeTransforms' Resize((256, 256)). */
export const E4E_INPUT_SIZE = 256;

/** An RGB image → [1, 3, 256, 256] in [-1, 1], resized (not cropped) with Pillow's bilinear filter. */
export function e4eInput(img: RgbImage): Tensor {
  // ToTensor + Normalize(0.5, 0.5) is v / 127.5 − 1, as every other photo becomes a tensor.
  return rgbToImageTensor(img.width === E4E_INPUT_SIZE && img.height === E4E_INPUT_SIZE ? img : resizeBilinear(img, E4E_INPUT_SIZE, E4E_INPUT_SIZE));
}

/** What an encoder is checked against: any generator's size and W+ layout, and its name for messages. */
export interface WPlusTarget {
  name: string;
  size: number;
  nLatent: number;
  styleDim: number;
}

/** Throws unless `G` has the size and the W+ rows and width of the generator the encoder was trained for. */
export function checkE4eFits(e4e: E4eLayout, file: string, G: WPlusTarget): void {
  if (G.nLatent === e4e.rows && G.styleDim === e4e.dim && G.size === e4e.styleganSize) return;
  throw new Error(
    `the e4e encoder ${file} gives W+ [${e4e.rows}, ${e4e.dim}] for a ${e4e.styleganSize} px generator; ` +
      `${G.name} is ${G.size} px with W+ [${G.nLatent}, ${G.styleDim}]: use the generator the encoder was trained with`,
  );
}

export interface E4eEncoderOptions extends SessionOptions {
  /** Checked with checkE4eFits once the checkpoint is read, before the session is built. */
  generator?: WPlusTarget;
}

export class E4eEncoder implements E4eLayout {
  private constructor(
    private readonly session: Session,
    /** The checkpoint, for messages. */
    readonly file: string,
    readonly rows: number,
    readonly dim: number,
    readonly styleganSize: number,
  ) {}

  static async fromFile(file: string, options: E4eEncoderOptions = {}): Promise<E4eEncoder> {
    return E4eEncoder.fromWeights(await readE4e(file), file, options);
  }

  static async fromWeights(w: E4eWeights, file: string, options: E4eEncoderOptions = {}): Promise<E4eEncoder> {
    const { generator, ...session } = options;
    const layout = e4eLayout(w);
    if (generator) checkE4eFits(layout, file, generator);
    const g = new Graph('e4e');
    g.output('ws', e4eEncode(g, w, g.input('image', [1, 3, E4E_INPUT_SIZE, E4E_INPUT_SIZE]))); // [1, rows, dim]
    return new E4eEncoder(await Session.fromGraph(g, session), file, layout.rows, layout.dim, layout.styleganSize);
  }

  /** image [1, 3, 256, 256] in [-1, 1] (see e4eInput) → W+ [1, rows, dim]. */
  async encode(image: Tensor): Promise<Tensor> {
    return (await this.session.run({ image })).ws!;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
