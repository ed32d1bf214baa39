/**
 * A loaded CLIP (ViT family) with ONNX Runtime sessions behind it: `loadClip(fileOrName)` reads an OpenAI
 * state dict or TorchScript `.pt`, or a Hugging Face `model.safetensors` / `pytorch_model.bin`, or a
 * registry name. Graphs are static in the batch: a call is split into chunks (the last one zero-padded),
 * and one session per graph kind and batch size is built on first use.
 */
import { basename } from 'node:path';
import { mapBatches } from '../engine/batching.js';
import { Graph } from '../engine/graph.js';
import { cast } from '../engine/ops.js';
import type { SessionOptions } from '../engine/session.js';
import { SessionCache } from '../engine/session-cache.js';
import { shapeString, type Tensor } from '../core/tensor.js';
import { readCheckpoint } from '../io/checkpoint.js';
import { CheckpointError } from '../io/errors.js';
import type { ClipWeights } from './architecture.js';
import { endOfTextSelector, imageEncoder, textEncoder } from './graph.js';
import { fromHuggingFace, isHuggingFaceClip } from './huggingface.js';
import { fromOpenAI, isOpenAIClip } from './openai.js';
import { generatorImageToClip } from './preprocess.js';
import { tokenize } from './tokenizer.js';

export interface ClipOptions extends SessionOptions {
  /** Most images or texts per session run (default 8); a smaller call runs at its own size. */
  batch?: number;
}

export interface ClipSource {
  /** e.g. `openai-torchscript`, `openai-torch-zip`, `huggingface-safetensors`. */
  format: string;
  path: string;
}

const DEFAULT_BATCH = 8;

export class Clip {
  private readonly maxBatch: number;
  private readonly sessions: SessionCache;

  constructor(
    readonly weights: ClipWeights,
    /** The registry name, or the file name of a local checkpoint. */
    readonly name: string,
    readonly source: ClipSource,
    options: ClipOptions = {},
  ) {
    this.maxBatch = options.batch ?? DEFAULT_BATCH;
    this.sessions = new SessionCache(options);
  }

  /** Side of the square input images, e.g. 224. */
  get resolution(): number {
    return this.weights.config.vision.resolution;
  }
  get embedDim(): number {
    return this.weights.config.embedDim;
  }
  get contextLength(): number {
    return this.weights.config.text.contextLength;
  }

  /** Texts → int64 ids [N, context] (`clip.tokenize`); too long a text throws unless `truncate` is set. */
  tokenize(texts: readonly string[], options: { truncate?: boolean } = {}): Tensor<BigInt64Array> {
    return tokenize(texts, { contextLength: this.contextLength, truncate: options.truncate });
  }

  /** Normalised pixels [N, 3, R, R] (CLIP's preprocessing already applied) → features [N, embedDim], not L2-normalised. */
  async encodeImage(pixels: Tensor): Promise<Tensor> {
    const r = this.resolution;
    const n = pixels.shape[0]!;
    if (shapeString(pixels.shape) !== shapeString([n, 3, r, r]) || n === 0) {
      throw new Error(`${this.name} takes images [N, 3, ${r}, ${r}], got ${shapeString(pixels.shape)}`);
    }
    const batch = this.batchFor(n);
    const session = await this.sessions.get(`image:${batch}`, () => {
      const g = new Graph('clip_image');
      g.output('features', imageEncoder(g, this.weights, g.input('pixels', [batch, 3, r, r])));
      return g;
    });
    return mapBatches([pixels], batch, async ([p]) => (await session.run({ pixels: p! })).features!);
  }

  /**
   * Generator images [N, 3, H, W] in [-1, 1] → features, through the same differentiable preprocessing
   * (bicubic resize, centre crop, normalise) that the training graph uses.
   */
  async encodeGeneratorImage(images: Tensor): Promise<Tensor> {
    const [n, c, h, w] = images.shape as [number, number, number, number];
    if (images.shape.length !== 4 || c !== 3 || n === 0) {
      throw new Error(`generator images must be [N, 3, H, W], got ${shapeString(images.shape)}`);
    }
    const batch = this.batchFor(n);
    const session = await this.sessions.get(`generator-image:${batch}:${h}x${w}`, () => {
      const g = new Graph('clip_generator_image');
      const pixels = generatorImageToClip(g, g.input('images', [batch, 3, h, w]), this.resolution);
      g.output('features', imageEncoder(g, this.weights, pixels));
      return g;
    });
    return mapBatches([images], batch, async ([x]) => (await session.run({ images: x! })).features!);
  }

  /** Token ids [N, context] → features [N, embedDim], not L2-normalised. */
  async encodeTokens(ids: Tensor<BigInt64Array>): Promise<Tensor> {
    const ctx = this.contextLength;
    const n = ids.shape[0]!;
    if (shapeString(ids.shape) !== shapeString([n, ctx]) || n === 0) {
      throw new Error(`${this.name} takes token ids [N, ${ctx}], got ${shapeString(ids.shape)}`);
    }
    const batch = this.batchFor(n);
    const session = await this.sessions.get(`text:${batch}`, () => {
      const g = new Graph('clip_text');
      // Ids travel as float32 (exact below 2^24; the vocabulary has 49,408) so that mapBatches can chunk them.
      const idsFloat = g.input('ids', [batch, ctx]);
      const endOfText = g.input('end_of_text', [batch, ctx]);
      g.output('features', textEncoder(g, this.weights, { ids: cast(idsFloat, 'int64'), endOfText }));
      return g;
    });
    const idsFloat: Tensor = { data: Float32Array.from(ids.data, Number), shape: [n, ctx] };
    return mapBatches([idsFloat, endOfTextSelector(ids)], batch, async ([i, e]) =>
      (await session.run({ ids: i!, end_of_text: e! })).features!,
    );
  }

  /** Texts → features [N, embedDim], not L2-normalised. */
  async encodeText(texts: readonly string[], options: { truncate?: boolean } = {}): Promise<Tensor> {
    return this.encodeTokens(this.tokenize(texts, options));
  }

  async release(): Promise<void> {
    await this.sessions.release();
  }

  private batchFor(n: number): number {
    return Math.min(n, this.maxBatch);
  }

}

/** A checkpoint file → CLIP weights, whichever supported layout it has. */
export async function readClipFile(path: string): Promise<{ weights: ClipWeights; format: string }> {
  const ck = await readCheckpoint(path);
  try {
    if (isOpenAIClip(ck.tensors)) return { weights: fromOpenAI(ck.tensors), format: `openai-${ck.format}` };
    if (isHuggingFaceClip(ck.tensors)) return { weights: fromHuggingFace(ck.tensors), format: `huggingface-${ck.format}` };
    throw new Error(
      'it holds no CLIP model (expected OpenAI names such as visual.proj and token_embedding.weight, ' +
        'or Hugging Face CLIPModel names such as vision_model.embeddings.patch_embedding.weight)',
    );
  } catch (err) {
    throw new CheckpointError(path, (err as Error).message, { cause: err });
  }
}

/** A registry name (e.g. `ViT-B/32`) or a local checkpoint path → a Clip. */
/** A CLIP checkpoint file → a Clip named `name` (default: the file name). */
export async function clipFromFile(path: string, options: ClipOptions = {}, name = basename(path)): Promise<Clip> {
  const { weights, format } = await readClipFile(path);
  return new Clip(weights, name, { format, path }, options);
}
