/**
 * encoder4editing's Encoder4Editing (omertov/encoder4editing models/encoders/psp_encoders.py) on the IR-SE50
 * backbone, as graph builders, and its checkpoint. From the backbone's taps c1 = body.6 (¼ of the input
 * size), c2 = body.20 (⅛) and c3 = body.23 (1/16), an FPN builds finer maps,
 *
 *   p2 = up(c3 → size of c2) + latlayer1(c2)      p1 = up(p2 → size of c1) + latlayer2(c1)
 *
 * (up: bilinear, align_corners=True), and one GradualStyleBlock per W+ row reads c3 (rows 0–2), p2 (rows
 * 3–6) or p1 (rows 7 on): log2(spatial) 3×3 stride-2 convolutions with LeakyReLU(0.01) down to 1×1, then an
 * EqualLinear. e4e's rows are one code and offsets from it, centred on the generator's average W:
 *
 *   w0 = style_0(c3)      W+[i] = w0 + (i > 0 ? style_i(features_i) : 0) + latent_avg[i]
 *
 * (the progressive stage of a finished training is Inference: every offset is used; latent_avg is added
 * as pSp.forward does with start_from_latent_avg).
 *
 * The checkpoint is what training/coach.py saves: `{'state_dict': pSp's state dict ('encoder.*', and the
 * generator as 'decoder.*', unused here), 'latent_avg', 'opts': the training options}`.
 */
import type { Tensor } from '../core/tensor.js';
import { shapeString } from '../core/tensor.js';
import type { Graph, Value } from '../engine/graph.js';
import { add, concat, conv, leakyRelu, matmul, reshape, resizeBilinearAlignCorners } from '../engine/ops.js';
import { readCheckpoint } from '../io/checkpoint.js';
import { CheckpointError } from '../io/errors.js';
import { floatTensor, type NamedTensors } from '../io/named-tensors.js';
import { irSe50, irSe50From, type IrSe50Weights } from './ir-se50.js';

/** Encoder4Editing's coarse_ind and middle_ind: rows before 3 read c3, before 7 read p2, the rest p1. */
const COARSE_ROWS = 3;
const MIDDLE_ROWS = 7;
/** GradualStyleBlock spatial plans (16, 32, 64): log2 of it stride-2 convolutions. */
const BLOCK_CONVS = { coarse: 4, middle: 5, fine: 6 } as const;
/** Backbone units whose outputs the FPN reads. */
const TAPS = { c1: 6, c2: 20, c3: 23 } as const;
/** nn.LeakyReLU()'s default slope. */
const STYLE_SLOPE = 0.01;
/** Under this in the checkpoint's tensors. */
const PREFIX = 'state_dict.encoder.';

interface Conv {
  weight: Tensor;
  /** [1, O, 1, 1]. */
  bias: Tensor;
}

export interface GradualStyleBlock {
  convs: Conv[];
  /** EqualLinear folded: [in, out] = (weight / √in)ᵀ, lr_mul 1. */
  linearT: Tensor;
  /** [1, out]. */
  linearBias: Tensor;
}

export interface E4eWeights {
  backbone: IrSe50Weights;
  latlayer1: Conv;
  latlayer2: Conv;
  styles: GradualStyleBlock[];
  /** Added to every output: [rows, D] (a [D] latent_avg is repeated over the rows), or none without start_from_latent_avg. */
  latentAvg?: Tensor;
  /** opts.stylegan_size: the generator the encoder was trained for. */
  styleganSize: number;
}

/** What an e4e gives: W+ [rows, dim] for a generator of styleganSize pixels. */
export interface E4eLayout {
  rows: number;
  dim: number;
  styleganSize: number;
}

export function e4eLayout(w: E4eWeights): E4eLayout {
  return { rows: w.styles.length, dim: w.styles[0]!.linearBias.shape[1]!, styleganSize: w.styleganSize };
}

function convWithBias(tensors: NamedTensors, name: string, shape: (number | undefined)[]): Conv {
  const weight = floatTensor(tensors, `${name}.weight`, shape);
  const bias = floatTensor(tensors, `${name}.bias`, [weight.shape[0]]);
  return { weight, bias: { data: bias.data, shape: [1, bias.shape[0]!, 1, 1] } };
}

function styleBlock(tensors: NamedTensors, i: number, inChannels: number): GradualStyleBlock {
  const name = `${PREFIX}styles.${i}`;
  const expected = i < COARSE_ROWS ? BLOCK_CONVS.coarse : i < MIDDLE_ROWS ? BLOCK_CONVS.middle : BLOCK_CONVS.fine;
  const convs: Conv[] = [];
  // nn.Sequential(Conv2d, LeakyReLU, Conv2d, LeakyReLU, …): the convolutions are the even entries.
  for (let k = 0; tensors.has(`${name}.convs.${2 * k}.weight`); k++) {
    convs.push(convWithBias(tensors, `${name}.convs.${2 * k}`, [undefined, k === 0 ? inChannels : convs[0]!.weight.shape[0], 3, 3]));
  }
  if (convs.length !== expected) throw new Error(`${name} has ${convs.length} convolutions; row ${i} of Encoder4Editing has ${expected}`);
  const width = convs[0]!.weight.shape[0]!;
  const weight = floatTensor(tensors, `${name}.linear.weight`, [width, width]);
  const bias = floatTensor(tensors, `${name}.linear.bias`, [width]);
  const scale = 1 / Math.sqrt(width);
  const linearT = new Float32Array(width * width);
  for (let o = 0; o < width; o++) for (let k = 0; k < width; k++) linearT[k * width + o] = weight.data[o * width + k]! * scale;
  return { convs, linearT: { data: linearT, shape: [width, width] }, linearBias: { data: bias.data, shape: [1, width] } };
}

/** The checkpoint's options that decide what it is; the rest (training settings) is not needed. */
export interface E4eOptions {
  encoderType: unknown;
  styleganSize: unknown;
  startFromLatentAvg: unknown;
}

/** Reads the encoder's tensors (`state_dict.encoder.*`, `latent_avg`) and options, checking names and shapes. */
export function e4eWeightsFrom(tensors: NamedTensors, opts: E4eOptions): E4eWeights {
  if (opts.encoderType !== 'Encoder4Editing') {
    throw new Error(
      `its opts.encoder_type is ${JSON.stringify(opts.encoderType ?? null)}: a pSp checkpoint of another encoder, not e4e (Encoder4Editing); ` +
        'its rows are not one code and offsets, so ganvec does not read it',
    );
  }
  const size = opts.styleganSize;
  if (typeof size !== 'number' || !Number.isInteger(Math.log2(size)) || size < 8) throw new Error(`opts.stylegan_size is ${JSON.stringify(size)}, not a power of two`);
  const rows = 2 * Math.log2(size) - 2;
  const backbone = irSe50From(tensors, PREFIX);
  const width = (k: number) => backbone.units[k]!.depth;
  const top = width(TAPS.c3);
  const latlayer1 = convWithBias(tensors, `${PREFIX}latlayer1`, [top, width(TAPS.c2), 1, 1]);
  const latlayer2 = convWithBias(tensors, `${PREFIX}latlayer2`, [top, width(TAPS.c1), 1, 1]);
  const styles = Array.from({ length: rows }, (_, i) => styleBlock(tensors, i, top));
  if (tensors.has(`${PREFIX}styles.${rows}.linear.weight`)) throw new Error(`it has more than the ${rows} style blocks of stylegan_size ${size}`);
  const dim = styles[0]!.linearBias.shape[1]!;
  let latentAvg: Tensor | undefined;
  if (opts.startFromLatentAvg !== false && opts.startFromLatentAvg !== null) {
    if (!tensors.has('latent_avg')) throw new Error('it has no latent_avg (e4e would compute one from its decoder; ganvec needs it saved)');
    const avg = floatTensor(tensors, 'latent_avg');
    if (avg.shape.length === 1 && avg.shape[0] === dim) {
      latentAvg = { data: new Float32Array(rows * dim).map((_, k) => avg.data[k % dim]!), shape: [rows, dim] };
    } else if (avg.shape.length === 2 && avg.shape[0] === rows && avg.shape[1] === dim) {
      latentAvg = avg;
    } else {
      throw new Error(`latent_avg has shape ${shapeString(avg.shape)}; expected [${rows}, ${dim}] or [${dim}]`);
    }
  }
  return { backbone, latlayer1, latlayer2, styles, latentAvg, styleganSize: size };
}

function optionsOf(root: unknown): E4eOptions | undefined {
  if (!(root instanceof Map)) return undefined;
  const opts = root.get('opts');
  if (!(opts instanceof Map)) return undefined;
  return { encoderType: opts.get('encoder_type'), styleganSize: opts.get('stylegan_size'), startFromLatentAvg: opts.get('start_from_latent_avg') };
}

/** Reads an encoder4editing checkpoint (e4e_ffhq_encode.pt); anything else is a one-line CheckpointError. */
export async function readE4e(path: string): Promise<E4eWeights> {
  const ck = await readCheckpoint(path);
  const tensors = ck.tensors as NamedTensors;
  const names = [...tensors.keys()];
  if (!names.some((n) => n.startsWith(PREFIX))) {
    const seen = names.length > 0 ? `its tensors start ${names.slice(0, 2).join(', ')}…` : 'it holds no tensors';
    throw new CheckpointError(path, `not an encoder4editing checkpoint: no state_dict with encoder.* weights (${seen}); e4e checkpoints are what its training saves, e.g. e4e_ffhq_encode.pt`);
  }
  const opts = optionsOf(ck.root);
  if (!opts) throw new CheckpointError(path, 'not an encoder4editing checkpoint: it has no opts (the training options e4e saves beside the state_dict)');
  try {
    return e4eWeightsFrom(tensors, opts);
  } catch (err) {
    throw new CheckpointError(path, `not a readable e4e checkpoint: ${(err as Error).message}`);
  }
}

function applyConv(g: Graph, c: Conv, x: Value, strides?: [number, number]): Value {
  const pads: [number, number, number, number] = c.weight.shape[2] === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0];
  return add(conv(x, g.constant(c.weight.data, c.weight.shape), { pads, strides }), g.constant(c.bias.data, c.bias.shape));
}

/** [N, C, S, S] → [N, D]: stride-2 convolutions down to 1×1, then the EqualLinear. */
function gradualStyle(g: Graph, b: GradualStyleBlock, x: Value): Value {
  let h = x;
  for (const c of b.convs) h = leakyRelu(applyConv(g, c, h, [2, 2]), STYLE_SLOPE);
  const [n, d, sh, sw] = h.shape as [number, number, number, number];
  if (sh !== 1 || sw !== 1) throw new Error(`GradualStyleBlock: the features end at ${sh}×${sw}, not 1×1: the input is not 256 px`);
  return add(matmul(reshape(h, [n, d]), g.constant(b.linearT.data, b.linearT.shape)), g.constant(b.linearBias.data, b.linearBias.shape));
}

/** x [N, 3, 256, 256] in [-1, 1] → W+ [N, rows, D]. */
export function e4eEncode(g: Graph, w: E4eWeights, x: Value): Value {
  const units = irSe50(g, w.backbone, x);
  const c1 = units[TAPS.c1]!;
  const c2 = units[TAPS.c2]!;
  const c3 = units[TAPS.c3]!;
  const upAdd = (top: Value, lateral: Value) => add(resizeBilinearAlignCorners(top, lateral.shape[2]!, lateral.shape[3]!), lateral);
  const p2 = upAdd(c3, applyConv(g, w.latlayer1, c2)); // [N, 512, H/8, W/8]
  const p1 = upAdd(p2, applyConv(g, w.latlayer2, c1)); // [N, 512, H/4, W/4]
  const w0 = gradualStyle(g, w.styles[0]!, c3); // [N, D]
  const rows = w.styles.map((b, i) => {
    const row = i === 0 ? w0 : add(w0, gradualStyle(g, b, i < COARSE_ROWS ? c3 : i < MIDDLE_ROWS ? p2 : p1));
    return reshape(row, [row.shape[0]!, 1, row.shape[1]!]);
  });
  const ws = concat(rows, 1); // [N, rows, D]
  return w.latentAvg ? add(ws, g.constant(w.latentAvg.data, [1, ...w.latentAvg.shape])) : ws;
}
