/**
 * CLIP's encoders as graph builders (DESIGN.md §4), written to be read next to openai/CLIP's model.py.
 * They append to a caller's Graph, so the training step can put the image encoder behind the generator
 * in one graph; every op on the image path has a VJP rule, so `grad` reaches the pixels.
 *
 * The patch conv (stride = kernel = patch) is a reshape/transpose into patches and one MatMul, which
 * keeps its gradient a MatMul too (the engine's Conv is stride 1).
 */
import type { Graph, Value } from '../engine/graph.js';
import {
  add, gather, layerNorm, matmul, mul, pad, reshape, sigmoid, slice, softmax, transpose,
} from '../engine/ops.js';
import { shapeString, transpose2d, type Tensor } from '../core/tensor.js';
import type { ClipWeights, LayerNormWeights, LinearWeights, ResidualBlockWeights } from './architecture.js';

const LAYER_NORM_EPS = 1e-5;
/** QuickGELU x·σ(1.702x), the activation OpenAI trained with. */
const QUICK_GELU_SCALE = 1.702;
/**
 * The causal mask's "−∞": finite, so that no inf ever meets a zero in a fused kernel; exp underflows to
 * exactly 0 all the same, as with −∞.
 */
const MASKED = -1e9;

interface PreparedLinear {
  /** [in, out] */
  weightT: Tensor;
  bias: Float32Array;
}

interface PreparedBlock {
  attnIn: PreparedLinear;
  attnOut: PreparedLinear;
  mlpFc: PreparedLinear;
  mlpProj: PreparedLinear;
}

/** Host-side constants derived once per model: transposed weights, the folded attention scale, the mask. */
interface Prepared {
  blocks: WeakMap<ResidualBlockWeights, PreparedBlock>;
  /** [3·p², width]: the patch conv as a matrix; rows in (channel, y, x) order. */
  patchWeightT: Tensor;
  /** [grid² + 1, width]: positional embedding with the class embedding added to row 0. */
  visionPositionsWithClass: Tensor;
  /** [context, context], 0 on and below the diagonal. */
  causalMask: Tensor;
}

const preparedCache = new WeakMap<ClipWeights, Prepared>();


function prepareLinear(l: LinearWeights): PreparedLinear {
  return { weightT: transpose2d(l.weight), bias: l.bias };
}

/**
 * nn.MultiheadAttention scales q by 1/√(head width) after the in-projection; the scale is folded into the
 * q rows of the in-projection here (q·s = x·(s·W_q)ᵀ + s·b_q), saving a Mul over every score.
 */
function prepareBlock(b: ResidualBlockWeights, heads: number): PreparedBlock {
  const width = b.attnIn.weight.shape[1]!;
  const scale = 1 / Math.sqrt(width / heads);
  const weight = b.attnIn.weight.data.slice();
  const bias = b.attnIn.bias.slice();
  for (let i = 0; i < width * width; i++) weight[i]! *= scale;
  for (let i = 0; i < width; i++) bias[i]! *= scale;
  return {
    attnIn: prepareLinear({ weight: { data: weight, shape: b.attnIn.weight.shape }, bias }),
    attnOut: prepareLinear(b.attnOut),
    mlpFc: prepareLinear(b.mlpFc),
    mlpProj: prepareLinear(b.mlpProj),
  };
}

function prepare(clip: ClipWeights): Prepared {
  let p = preparedCache.get(clip);
  if (p) return p;
  const { vision, text, config } = clip;
  const width = config.vision.width;
  const patchWeight = vision.patchEmbedding;
  const positions = vision.positionalEmbedding.data.slice();
  for (let i = 0; i < width; i++) positions[i]! += vision.classEmbedding[i]!;
  const ctx = config.text.contextLength;
  const mask = new Float32Array(ctx * ctx);
  for (let i = 0; i < ctx; i++) for (let j = i + 1; j < ctx; j++) mask[i * ctx + j] = MASKED;
  p = {
    blocks: new WeakMap(),
    patchWeightT: transpose2d({ data: patchWeight.data, shape: [width, patchWeight.data.length / width] }),
    visionPositionsWithClass: { data: positions, shape: vision.positionalEmbedding.shape },
    causalMask: { data: mask, shape: [ctx, ctx] },
  };
  for (const b of vision.blocks) p.blocks.set(b, prepareBlock(b, config.vision.heads));
  for (const b of text.blocks) p.blocks.set(b, prepareBlock(b, config.text.heads));
  preparedCache.set(clip, p);
  return p;
}

function constant(g: Graph, t: Tensor): Value {
  return g.constant(t.data, t.shape);
}

/** x [..., in] → x @ Wᵀ + b  [..., out] */
function linear(g: Graph, l: PreparedLinear, x: Value): Value {
  return add(matmul(x, constant(g, l.weightT)), g.constant(l.bias, [l.bias.length]));
}

function norm(g: Graph, ln: LayerNormWeights, x: Value): Value {
  return layerNorm(x, g.constant(ln.weight, [ln.weight.length]), g.constant(ln.bias, [ln.bias.length]), LAYER_NORM_EPS);
}

/** Multi-head self-attention over x [N, L, width]; `mask` [L, L] is added to the scores. */
function attention(g: Graph, b: PreparedBlock, x: Value, heads: number, mask: Value | undefined): Value {
  const [n, len, width] = x.shape as [number, number, number];
  const d = width / heads;
  const qkv = reshape(linear(g, b.attnIn, x), [n, len, 3, heads, d]);
  const part = (i: number) => reshape(slice(qkv, 2, i, i + 1), [n, len, heads, d]);
  const q = transpose(part(0), [0, 2, 1, 3]); // [N, H, L, d], already scaled
  const kT = transpose(part(1), [0, 2, 3, 1]); // [N, H, d, L]
  const v = transpose(part(2), [0, 2, 1, 3]); // [N, H, L, d]
  const scores = matmul(q, kT); // [N, H, L, L]
  const weights = softmax(mask ? add(scores, mask) : scores, -1);
  const merged = reshape(transpose(matmul(weights, v), [0, 2, 1, 3]), [n, len, width]); // heads side by side again
  return linear(g, b.attnOut, merged);
}

function mlp(g: Graph, b: PreparedBlock, x: Value): Value {
  const h = linear(g, b.mlpFc, x);
  return linear(g, b.mlpProj, mul(h, sigmoid(mul(h, QUICK_GELU_SCALE))));
}

function transformer(g: Graph, P: Prepared, blocks: readonly ResidualBlockWeights[], x: Value, heads: number, mask?: Value): Value {
  for (const block of blocks) {
    const b = P.blocks.get(block)!;
    x = add(x, attention(g, b, norm(g, block.ln1, x), heads, mask));
    x = add(x, mlp(g, b, norm(g, block.ln2, x)));
  }
  return x;
}

/** Normalised pixels [N, 3, R, R] (R = the encoder's resolution) → image features [N, embedDim], not L2-normalised. */
export function imageEncoder(g: Graph, clip: ClipWeights, pixels: Value): Value {
  const P = prepare(clip);
  const { width, patchSize: p, grid, resolution } = clip.config.vision;
  const n = pixels.shape[0]!;
  if (shapeString(pixels.shape) !== shapeString([n, 3, resolution, resolution])) {
    throw new Error(`CLIP image encoder takes [N, 3, ${resolution}, ${resolution}] pixels, got ${shapeString(pixels.shape)}`);
  }
  const patches = reshape(
    transpose(reshape(pixels, [n, 3, grid, p, grid, p]), [0, 2, 4, 1, 3, 5]), // [N, gy, gx, 3, py, px]
    [n, grid * grid, 3 * p * p],
  );
  const embedded = matmul(patches, constant(g, P.patchWeightT)); // [N, grid², width]
  // A zero row in front takes the class token; its embedding rides in with the positions (row 0).
  let x = add(pad(embedded, [0, 1, 0, 0, 0, 0]), constant(g, P.visionPositionsWithClass)); // [N, grid² + 1, width]
  x = norm(g, clip.vision.lnPre, x);
  x = transformer(g, P, clip.vision.blocks, x, clip.config.vision.heads);
  const classToken = reshape(slice(x, 1, 0, 1), [n, width]);
  return matmul(norm(g, clip.vision.lnPost, classToken), constant(g, clip.vision.proj));
}

export interface TextInputs {
  /** int64 [N, context]: token ids, as the tokenizer gives them. */
  ids: Value;
  /** float32 [N, context]: one-hot at each row's end-of-text token (see endOfTextSelector). */
  endOfText: Value;
}

/** Token ids → text features [N, embedDim], not L2-normalised. */
export function textEncoder(g: Graph, clip: ClipWeights, tokens: TextInputs): Value {
  const P = prepare(clip);
  const { width, contextLength } = clip.config.text;
  const n = tokens.ids.shape[0]!;
  if (shapeString(tokens.ids.shape) !== shapeString([n, contextLength]) || tokens.ids.dtype !== 'int64') {
    throw new Error(`CLIP text encoder takes int64 [N, ${contextLength}] token ids, got ${tokens.ids.dtype} ${shapeString(tokens.ids.shape)}`);
  }
  if (shapeString(tokens.endOfText.shape) !== shapeString(tokens.ids.shape)) {
    throw new Error(`the end-of-text selector must have the ids' shape ${shapeString(tokens.ids.shape)}`);
  }
  let x = add(gather(constant(g, clip.text.tokenEmbedding), tokens.ids, 0), constant(g, clip.text.positionalEmbedding)); // [N, ctx, width]
  x = transformer(g, P, clip.text.blocks, x, clip.config.text.heads, constant(g, P.causalMask));
  // LayerNorm is per row, so picking the end-of-text row first gives the same row of ln_final(x).
  const picked = reshape(matmul(reshape(tokens.endOfText, [n, 1, contextLength]), x), [n, width]);
  return matmul(norm(g, clip.text.lnFinal, picked), constant(g, clip.text.projection));
}

/**
 * ids [N, context] → one-hot [N, context] at the end-of-text token of each row: the first position of
 * the row's largest id, as `text.argmax(dim=-1)` picks it (end-of-text has the highest id in the vocabulary).
 */
export function endOfTextSelector(ids: Tensor<BigInt64Array>): Tensor {
  const [n, ctx] = ids.shape as [number, number];
  const out = new Float32Array(n * ctx);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let j = 1; j < ctx; j++) if (ids.data[r * ctx + j]! > ids.data[r * ctx + best]!) best = j;
    out[r * ctx + best] = 1;
  }
  return { data: out, shape: [n, ctx] };
}
