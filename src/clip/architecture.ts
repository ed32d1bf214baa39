/**
 * The format-neutral CLIP (ViT family): every checkpoint layout (OpenAI state dict or TorchScript,
 * Hugging Face `CLIPModel`) is mapped onto these tensors, in OpenAI's orientation, and the configuration
 * is read off their shapes the way openai/CLIP's `build_model` does. One graph builder serves them all.
 */
import { shapeString, type Tensor } from '../core/tensor.js';
import { floatTensor, type NamedTensors } from '../io/named-tensors.js';

export interface LayerNormWeights {
  weight: Float32Array;
  bias: Float32Array;
}

export interface LinearWeights {
  /** [out, in], as torch.nn.Linear stores it. */
  weight: Tensor;
  /** [out] */
  bias: Float32Array;
}

/** One pre-LN residual attention block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
export interface ResidualBlockWeights {
  ln1: LayerNormWeights;
  /** [3·width, width]: rows q | k | v (torch.nn.MultiheadAttention's `in_proj_weight`). */
  attnIn: LinearWeights;
  attnOut: LinearWeights;
  ln2: LayerNormWeights;
  /** [4·width, width] */
  mlpFc: LinearWeights;
  /** [width, 4·width] */
  mlpProj: LinearWeights;
}

export interface VisionTensors {
  /** [width, 3, patch, patch], the patch conv (stride = kernel, no bias). */
  patchEmbedding: Tensor;
  /** [width] */
  classEmbedding: Float32Array;
  /** [grid² + 1, width]: the class token first, then patches in row-major order. */
  positionalEmbedding: Tensor;
  lnPre: LayerNormWeights;
  blocks: ResidualBlockWeights[];
  lnPost: LayerNormWeights;
  /** [width, embedDim] */
  proj: Tensor;
}

export interface TextTensors {
  /** [vocab, width] */
  tokenEmbedding: Tensor;
  /** [context, width] */
  positionalEmbedding: Tensor;
  blocks: ResidualBlockWeights[];
  lnFinal: LayerNormWeights;
  /** [width, embedDim] */
  projection: Tensor;
}

export interface ClipTensors {
  vision: VisionTensors;
  text: TextTensors;
  /** log of the logit temperature; OpenAI initialises it to log(1/0.07). */
  logitScale: number;
}

export interface ClipConfig {
  embedDim: number;
  vision: { width: number; layers: number; heads: number; patchSize: number; grid: number; resolution: number };
  text: { width: number; layers: number; heads: number; contextLength: number; vocabSize: number };
}

export interface ClipWeights extends ClipTensors {
  config: ClipConfig;
}

/** Attention heads are 64 wide in every ViT CLIP (`build_model`: width // 64). */
const HEAD_WIDTH = 64;

/** Reads the configuration off the tensor shapes (as `build_model` does) and checks every shape against it. */
export function clipWeights(tensors: ClipTensors): ClipWeights {
  const { vision, text } = tensors;
  const [vWidth, inChannels, patchSize] = vision.patchEmbedding.shape as [number, number, number];
  const grid = Math.round(Math.sqrt(vision.positionalEmbedding.shape[0]! - 1));
  const tWidth = text.lnFinal.weight.length;
  const config: ClipConfig = {
    embedDim: text.projection.shape[1]!,
    vision: {
      width: vWidth,
      layers: vision.blocks.length,
      heads: Math.floor(vWidth / HEAD_WIDTH),
      patchSize,
      grid,
      resolution: patchSize * grid,
    },
    text: {
      width: tWidth,
      layers: text.blocks.length,
      heads: Math.floor(tWidth / HEAD_WIDTH),
      contextLength: text.positionalEmbedding.shape[0]!,
      vocabSize: text.tokenEmbedding.shape[0]!,
    },
  };
  const { embedDim } = config;
  const expect = (what: string, t: Tensor, shape: number[]) => {
    if (shapeString(t.shape) !== shapeString(shape)) {
      throw new Error(`CLIP ${what} has shape ${shapeString(t.shape)}; expected ${shapeString(shape)}`);
    }
  };
  const expectLength = (what: string, a: Float32Array, n: number) => {
    if (a.length !== n) throw new Error(`CLIP ${what} has ${a.length} values; expected ${n}`);
  };
  const checkBlocks = (tower: string, blocks: ResidualBlockWeights[], width: number) => {
    if (blocks.length === 0) throw new Error(`CLIP ${tower} transformer has no layers`);
    if (width < HEAD_WIDTH || width % HEAD_WIDTH !== 0) {
      throw new Error(`CLIP ${tower} width ${width} is not a multiple of the ${HEAD_WIDTH}-wide attention heads`);
    }
    blocks.forEach((b, i) => {
      const at = `${tower} block ${i}`;
      for (const [name, ln] of [['ln_1', b.ln1], ['ln_2', b.ln2]] as const) {
        expectLength(`${at} ${name}.weight`, ln.weight, width);
        expectLength(`${at} ${name}.bias`, ln.bias, width);
      }
      const linears = [
        ['attn in_proj', b.attnIn, 3 * width, width],
        ['attn out_proj', b.attnOut, width, width],
        ['mlp c_fc', b.mlpFc, 4 * width, width],
        ['mlp c_proj', b.mlpProj, width, 4 * width],
      ] as const;
      for (const [name, lin, out, inp] of linears) {
        expect(`${at} ${name} weight`, lin.weight, [out, inp]);
        expectLength(`${at} ${name} bias`, lin.bias, out);
      }
    });
  };
  if (vision.patchEmbedding.shape.length !== 4 || inChannels !== 3 || vision.patchEmbedding.shape[3] !== patchSize) {
    throw new Error(`CLIP patch embedding has shape ${shapeString(vision.patchEmbedding.shape)}; expected [width, 3, p, p]`);
  }
  expect('vision positional embedding', vision.positionalEmbedding, [grid * grid + 1, vWidth]);
  expectLength('class embedding', vision.classEmbedding, vWidth);
  for (const [name, ln] of [['ln_pre', vision.lnPre], ['ln_post', vision.lnPost]] as const) {
    expectLength(`vision ${name}.weight`, ln.weight, vWidth);
    expectLength(`vision ${name}.bias`, ln.bias, vWidth);
  }
  expect('vision projection', vision.proj, [vWidth, embedDim]);
  checkBlocks('vision', vision.blocks, vWidth);
  expect('token embedding', text.tokenEmbedding, [config.text.vocabSize, tWidth]);
  expect('text positional embedding', text.positionalEmbedding, [config.text.contextLength, tWidth]);
  expectLength('ln_final.bias', text.lnFinal.bias, tWidth);
  expect('text projection', text.projection, [tWidth, embedDim]);
  checkBlocks('text', text.blocks, tWidth);
  return { ...tensors, config };
}

export function layerNormAt(tensors: NamedTensors, prefix: string): LayerNormWeights {
  return { weight: floatTensor(tensors, `${prefix}.weight`).data, bias: floatTensor(tensors, `${prefix}.bias`).data };
}

export function linearAt(tensors: NamedTensors, weight: string, bias: string): LinearWeights {
  return { weight: floatTensor(tensors, weight), bias: floatTensor(tensors, bias).data };
}

/** The stored logit scale, or OpenAI's initial log(1/0.07) when a file leaves it out. */
export function logitScaleOf(tensors: NamedTensors): number {
  return tensors.has('logit_scale') ? floatTensor(tensors, 'logit_scale', []).data[0]! : Math.log(1 / 0.07);
}
