/**
 * The IR-SE50 backbone of pSp/e4e (encoder4editing models/encoders/helpers.py, from TreB1eN's ArcFace):
 * an input layer (3×3 conv, BatchNorm, PReLU) and 24 bottleneck_IR_SE units in four stages of 3, 4, 14
 * and 3 (get_blocks(50)), each stage's first unit with stride 2. A unit is
 *
 *   res      = SE(BN(conv3×3/s(PReLU(conv3×3(BN(x))))))        SE(y) = y · σ(fc2(relu(fc1(avgpool(y)))))
 *   shortcut = x[:, :, ::s, ::s] when the width is kept (MaxPool2d(1, s)), else BN(conv1×1/s(x))
 *   out      = res + shortcut
 *
 * BatchNorm runs in eval mode (running statistics), folded into a per-channel scale and shift here.
 * Widths are read off the weights, so shrunk copies of the network read the same way.
 */
import type { Tensor } from '../core/tensor.js';
import type { Graph, Value } from '../engine/graph.js';
import { add, conv, greater, mul, prelu, reduceMean, sigmoid, where } from '../engine/ops.js';
import { floatTensor, type NamedTensors } from '../io/named-tensors.js';

/** get_blocks(50): units per stage; the first unit of each stage has stride 2. */
const STAGE_UNITS = [3, 4, 14, 3] as const;
/** SEModule(depth, 16). */
const SE_REDUCTION = 16;
/** torch.nn.BatchNorm2d's default eps. */
const BN_EPS = 1e-5;

/** Eval-mode BatchNorm folded: y = x · scale + shift, both [1, C, 1, 1]. */
export interface FoldedBatchNorm {
  scale: Tensor;
  shift: Tensor;
}

export interface IrSeUnit {
  inChannels: number;
  depth: number;
  stride: number;
  /** The 1×1 projection when the width changes; none means MaxPool2d(1, stride). */
  shortcut?: { conv: Tensor; bn: FoldedBatchNorm };
  bn0: FoldedBatchNorm;
  conv1: Tensor;
  /** [1, depth, 1, 1]. */
  prelu: Tensor;
  conv2: Tensor;
  bn2: FoldedBatchNorm;
  seFc1: Tensor;
  seFc2: Tensor;
}

export interface IrSe50Weights {
  inputConv: Tensor;
  inputBn: FoldedBatchNorm;
  inputPrelu: Tensor;
  units: IrSeUnit[];
}

function channelVector(t: Tensor): Tensor {
  return { data: t.data, shape: [1, t.shape[0]!, 1, 1] };
}

function batchNorm(tensors: NamedTensors, name: string, channels: number): FoldedBatchNorm {
  const [gamma, beta, mean, variance] = ['weight', 'bias', 'running_mean', 'running_var'].map((p) => floatTensor(tensors, `${name}.${p}`, [channels]).data);
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = gamma![c]! / Math.sqrt(variance![c]! + BN_EPS);
    scale[c] = s;
    shift[c] = beta![c]! - mean![c]! * s;
  }
  return { scale: { data: scale, shape: [1, channels, 1, 1] }, shift: { data: shift, shape: [1, channels, 1, 1] } };
}

/** Reads `input_layer.*` and `body.0` … `body.23` under `prefix` (e.g. `state_dict.encoder.`). */
export function irSe50From(tensors: NamedTensors, prefix: string): IrSe50Weights {
  const inputConv = floatTensor(tensors, `${prefix}input_layer.0.weight`, [undefined, 3, 3, 3]);
  let width = inputConv.shape[0]!;
  const inputBn = batchNorm(tensors, `${prefix}input_layer.1`, width);
  const inputPrelu = channelVector(floatTensor(tensors, `${prefix}input_layer.2.weight`, [width]));
  const units: IrSeUnit[] = [];
  for (const count of STAGE_UNITS) {
    for (let k = 0; k < count; k++) {
      const name = `${prefix}body.${units.length}`;
      const conv1 = floatTensor(tensors, `${name}.res_layer.1.weight`, [undefined, width, 3, 3]);
      const depth = conv1.shape[0]!;
      const stride = k === 0 ? 2 : 1;
      const projected = tensors.has(`${name}.shortcut_layer.0.weight`);
      if (projected === (width === depth)) {
        throw new Error(`${name}: a unit from ${width} to ${depth} channels ${projected ? 'has' : 'lacks'} the 1×1 shortcut convolution`);
      }
      if (!tensors.has(`${name}.res_layer.5.fc1.weight`)) throw new Error(`${name}: no SE module (res_layer.5): an IR backbone, not IR-SE`);
      const reduced = Math.floor(depth / SE_REDUCTION);
      units.push({
        inChannels: width,
        depth,
        stride,
        shortcut: projected
          ? { conv: floatTensor(tensors, `${name}.shortcut_layer.0.weight`, [depth, width, 1, 1]), bn: batchNorm(tensors, `${name}.shortcut_layer.1`, depth) }
          : undefined,
        bn0: batchNorm(tensors, `${name}.res_layer.0`, width),
        conv1,
        prelu: channelVector(floatTensor(tensors, `${name}.res_layer.2.weight`, [depth])),
        conv2: floatTensor(tensors, `${name}.res_layer.3.weight`, [depth, depth, 3, 3]),
        bn2: batchNorm(tensors, `${name}.res_layer.4`, depth),
        seFc1: floatTensor(tensors, `${name}.res_layer.5.fc1.weight`, [reduced, depth, 1, 1]),
        seFc2: floatTensor(tensors, `${name}.res_layer.5.fc2.weight`, [depth, reduced, 1, 1]),
      });
      width = depth;
    }
  }
  if (tensors.has(`${prefix}body.${units.length}.res_layer.1.weight`)) {
    throw new Error(`${prefix}body has more than ${units.length} units: not the 50-layer IR-SE (get_blocks(50))`);
  }
  return { inputConv, inputBn, inputPrelu, units };
}

function constant(g: Graph, t: Tensor): Value {
  return g.constant(t.data, t.shape);
}

function applyBn(g: Graph, bn: FoldedBatchNorm, x: Value): Value {
  return add(mul(x, constant(g, bn.scale)), constant(g, bn.shift));
}

/** Squeeze-and-excitation: channel gates from the spatial mean. */
function squeezeExcite(g: Graph, u: IrSeUnit, y: Value): Value {
  const pooled = reduceMean(y, [2, 3], true); // [N, D, 1, 1]
  const hidden = conv(pooled, constant(g, u.seFc1)); // [N, D/16, 1, 1]
  const relu = where(greater(hidden, 0), hidden, 0);
  return mul(y, sigmoid(conv(relu, constant(g, u.seFc2))));
}

/** MaxPool2d(kernel 1, stride s) keeps every s-th pixel: a depthwise 1×1 convolution with unit weights. */
function subsample(g: Graph, x: Value, s: number): Value {
  if (s === 1) return x;
  const c = x.shape[1]!;
  return conv(x, g.constant(new Float32Array(c).fill(1), [c, 1, 1, 1]), { group: c, strides: [s, s] });
}

function unit(g: Graph, u: IrSeUnit, x: Value): Value {
  const s: [number, number] = [u.stride, u.stride];
  const shortcut = u.shortcut
    ? applyBn(g, u.shortcut.bn, conv(x, constant(g, u.shortcut.conv), { strides: s }))
    : subsample(g, x, u.stride);
  let r = conv(applyBn(g, u.bn0, x), constant(g, u.conv1), { pads: [1, 1, 1, 1] }); // [N, D, H, W]
  r = prelu(r, constant(g, u.prelu));
  r = applyBn(g, u.bn2, conv(r, constant(g, u.conv2), { pads: [1, 1, 1, 1], strides: s })); // [N, D, H/s, W/s]
  return add(squeezeExcite(g, u, r), shortcut);
}

/** x [N, 3, H, W] → every unit's output, body.0 … body.23 (e4e taps 6, 20 and 23). */
export function irSe50(g: Graph, w: IrSe50Weights, x: Value): Value[] {
  let h = conv(x, constant(g, w.inputConv), { pads: [1, 1, 1, 1] });
  h = prelu(applyBn(g, w.inputBn, h), constant(g, w.inputPrelu));
  const outs: Value[] = [];
  for (const u of w.units) outs.push((h = unit(g, u, h)));
  return outs;
}
