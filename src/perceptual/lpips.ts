/**
 * LPIPS v0.1 with the VGG16 trunk, as richzhang/PerceptualSimilarity defines it (lpips/lpips.py,
 * pretrained_networks.py), as graph builders: the scaling layer, VGG16's features up to relu1_2, relu2_2,
 * relu3_3, relu4_3 and relu5_3, each unit-normalised over channels, squared differences weighted by the
 * learned 1×1 "lin" layers, averaged over space and summed over the five layers. Inputs are images in
 * [-1, 1] (the reference's normalize=False). Every op has a VJP rule, so `grad` reaches the pixels.
 *
 * Weights: torchvision's ImageNet VGG16 state dict (`features.N.weight/bias`) and PerceptualSimilarity's
 * lin weights (`lin0.model.1.weight` … `lin4`), two files as they are published.
 */
import type { Tensor } from '../core/tensor.js';
import { readCheckpoint } from '../io/checkpoint.js';
import { floatTensor, type NamedTensors } from '../io/named-tensors.js';
import type { Graph, Value } from '../engine/graph.js';
import { add, conv, div, greater, reduceMean, reduceSum, slice, spaceToDepth, sqrt, square, sub, where } from '../engine/ops.js';

/** torchvision's VGG16 `features` indices of the convolutions, by block; a 2×2 max-pool precedes blocks 2–5. */
const VGG16_BLOCKS = [[0, 2], [5, 7], [10, 12, 14], [17, 19, 21], [24, 26, 28]] as const;
/** ScalingLayer: (x − shift) / scale, ImageNet statistics in the [-1, 1] range. */
const SHIFT = [-0.03, -0.088, -0.188];
const SCALE = [0.458, 0.448, 0.45];
/** normalize_tensor's eps. */
const EPS = 1e-10;

export interface LpipsWeights {
  /** 13 convolutions, 3×3, padding 1, in `features` order. */
  convs: Array<{ weight: Tensor; bias: Tensor }>;
  /** Per layer [1, C, 1, 1], non-negative. */
  lins: Tensor[];
}

export function lpipsWeightsFrom(vgg: NamedTensors, lin: NamedTensors): LpipsWeights {
  const convs = VGG16_BLOCKS.flat().map((i) => {
    const weight = floatTensor(vgg, `features.${i}.weight`, [undefined, undefined, 3, 3]);
    const bias = floatTensor(vgg, `features.${i}.bias`, [weight.shape[0]]);
    return { weight, bias: { data: bias.data, shape: [1, bias.shape[0]!, 1, 1] } };
  });
  let c = 3;
  for (const [k, { weight }] of convs.entries()) {
    if (weight.shape[1] !== c) throw new Error(`VGG16 features.${VGG16_BLOCKS.flat()[k]}.weight takes ${weight.shape[1]} channels; the layer before gives ${c}`);
    c = weight.shape[0]!;
  }
  const widths = VGG16_BLOCKS.map((b) => convs[VGG16_BLOCKS.flat().indexOf(b[b.length - 1]!)]!.weight.shape[0]!);
  const lins = widths.map((w, k) => floatTensor(lin, `lin${k}.model.1.weight`, [1, w, 1, 1]));
  return { convs, lins };
}

/** Reads the two published files: torchvision's vgg16-397923af.pth and PerceptualSimilarity's v0.1 vgg.pth. */
export async function readLpipsWeights(vggPath: string, linPath: string): Promise<LpipsWeights> {
  const named = async (path: string) => {
    const ck = await readCheckpoint(path);
    return ck.tensors as NamedTensors;
  };
  try {
    return lpipsWeightsFrom(await named(vggPath), await named(linPath));
  } catch (err) {
    throw new Error(`LPIPS weights (${vggPath}, ${linPath}): ${(err as Error).message}`);
  }
}

/**
 * ReLU whose gradient selects rather than multiplies by the slope, as PyTorch's threshold_backward does:
 * where a position's features are all zero, normalize_tensor's √0 sends NaN back, and only a select
 * (not NaN · 0) stops it there, as in the reference.
 */
function relu(x: Value): Value {
  return where(greater(x, 0), x, 0);
}

/** 2×2 max-pool, stride 2, as the maximum of the four members of each window. */
function maxPool2(x: Value): Value {
  const c = x.shape[1]!;
  const s = spaceToDepth(x, 2); // [N, 4C, H/2, W/2], window member k in channels [kC, (k+1)C)
  const member = (k: number) => slice(s, 1, k * c, (k + 1) * c);
  const max = (a: Value, b: Value) => where(greater(a, b), a, b);
  return max(max(member(0), member(1)), max(member(2), member(3)));
}

/** img [N, 3, H, W] in [-1, 1] → the five unit-normalised VGG16 feature maps [N, C_l, H_l, W_l]. */
export function lpipsFeatures(g: Graph, w: LpipsWeights, img: Value): Value[] {
  let h = div(sub(img, g.constant(Float32Array.from(SHIFT), [1, 3, 1, 1])), g.constant(Float32Array.from(SCALE), [1, 3, 1, 1]));
  const out: Value[] = [];
  let k = 0;
  for (const [b, block] of VGG16_BLOCKS.entries()) {
    if (b > 0) h = maxPool2(h);
    for (let i = 0; i < block.length; i++, k++) {
      const { weight, bias } = w.convs[k]!;
      h = relu(add(conv(h, g.constant(weight.data, weight.shape), { pads: [1, 1, 1, 1] }), g.constant(bias.data, bias.shape)));
    }
    // normalize_tensor: x / (‖x‖ over channels + eps)
    out.push(div(h, add(sqrt(reduceSum(square(h), [1], true)), EPS)));
  }
  return out;
}

/** LPIPS between two sets of normalised features → [N]. */
export function lpipsDistance(g: Graph, w: LpipsWeights, f0: readonly Value[], f1: readonly Value[]): Value {
  let total: Value | undefined;
  for (let l = 0; l < f0.length; l++) {
    const lin = w.lins[l]!;
    const weighted = conv(square(sub(f0[l]!, f1[l]!)), g.constant(lin.data, lin.shape)); // [N, 1, H_l, W_l]
    const layer = reduceMean(weighted, [1, 2, 3]); // spatial average (one channel)
    total = total ? add(total, layer) : layer;
  }
  return total!;
}
