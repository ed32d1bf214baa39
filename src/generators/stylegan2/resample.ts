/**
 * Host-side kernel algebra for 2x upsampling without ConvTranspose (7x slower in ONNX Runtime).
 *
 * StyleGAN2 upsamples by a stride-2 transposed 3x3 conv followed by the [1,3,3,1] FIR blur (pads 1,1,
 * gain 4), and the RGB skip path by zero-insertion + the same FIR (pads 2,1, gain 4).
 *
 * The transposed conv is four stride-1 convs at the low resolution, one per output phase, each with only
 * the taps that phase reads: 1, 2, 2 and 4 of the nine, so the multiply-adds are the transposed conv's
 * own. With q the output phase and t ∈ {−1, 0} the input offset, its samples are, per axis,
 *   V[2j + q] = T[2j + q − 1]:  V0[j] = x[j−1]·W[1],  V1[j] = x[j]·W[0] + x[j−1]·W[2],  j ∈ [0, H]
 * The phases are interleaved into V over 2H + 2 samples and the blur (pads 0 before, 1 after) reads
 * B[y] = Σₐ K[a]·V[y + a], y ∈ [0, 2H). The one 2x2 polyphase conv that computes all four phases at once
 * multiplies 16 taps instead of 9, and ONNX Runtime runs it slower per multiply-add than 1x1 and 2x1 ones.
 *
 * The skip path (3 channels) is one stride-1 3x3 conv writing the four output phases as channel blocks,
 * followed by DepthToSpace (DCR order: channel (py·2 + px)·C + c lands at (2y + py, 2x + px)):
 *   out[2m] = (x[m−1] + 3x[m]) / 4,   out[2m+1] = (3x[m] + x[m+1]) / 4
 */
import type { Tensor } from '../../core/tensor.js';

const FIR = [1 / 4, 3 / 4, 3 / 4, 1 / 4];

/** Per-phase 3-tap kernels of the skip upsampler, index [phase][t + 1]. */
const SKIP_TAPS = [
  [1 / 4, 3 / 4, 0],
  [0, 3 / 4, 1 / 4],
];

/** Weight [4·C, C, 3, 3] for the FIR upsampling of a C-channel image: conv(pad 1) + DepthToSpace(2). */
export function polyphaseUpsampleFir(channels: number): Tensor {
  const out = new Float32Array(4 * channels * channels * 9);
  for (let py = 0; py < 2; py++) {
    for (let px = 0; px < 2; px++) {
      for (let c = 0; c < channels; c++) {
        const oc = (py * 2 + px) * channels + c;
        for (let jy = 0; jy < 3; jy++) {
          for (let jx = 0; jx < 3; jx++) {
            out[((oc * channels + c) * 3 + jy) * 3 + jx] = SKIP_TAPS[py]![jy]! * SKIP_TAPS[px]![jx]!;
          }
        }
      }
    }
  }
  return { data: out, shape: [4 * channels, channels, 3, 3] };
}

/** Which 3x3 tap each phase's kernel tap reads, per axis: phase 0 reads offset −1 only. */
const PHASE_TAPS = [
  [1], // phase 0: offset −1 → W[1]
  [2, 0], // phase 1: offset −1 → W[2], offset 0 → W[0]
];

/** One output phase of the transposed conv: its kernel and the pads that give H + 1 outputs. */
export interface PhaseConv {
  kernel: Tensor;
  pads: [number, number, number, number];
}

/** The four phase convs by output phase: [[(0,0), (0,1)], [(1,0), (1,1)]]. */
export type PhaseConvs = [[PhaseConv, PhaseConv], [PhaseConv, PhaseConv]];

/**
 * Weight [O, I, 3, 3] of the transposed conv (as rosinality/NVIDIA store it, used un-flipped) → its phase
 * convs, kernels [O, I, 1 + qy, 1 + qx], each making [N, O, H + 1, W + 1].
 */
export function transposedConvPhases(weight: Tensor): PhaseConvs {
  const [o, i] = weight.shape as [number, number, number, number];
  const phase = (qy: number, qx: number): PhaseConv => {
    const rows = PHASE_TAPS[qy]!;
    const cols = PHASE_TAPS[qx]!;
    const out = new Float32Array(o * i * rows.length * cols.length);
    let at = 0;
    for (let oc = 0; oc < o; oc++) {
      for (let ic = 0; ic < i; ic++) {
        for (const ky of rows) for (const kx of cols) out[at++] = weight.data[((oc * i + ic) * 3 + ky) * 3 + kx]!;
      }
    }
    return { kernel: { data: out, shape: [o, i, rows.length, cols.length] }, pads: [1, 1, qy, qx] };
  };
  return [[phase(0, 0), phase(0, 1)], [phase(1, 0), phase(1, 1)]];
}

/** The [1,3,3,1] FIR with gain 4 as a depthwise kernel [C, 1, 4, 4]. */
export function firDepthwise(channels: number): Tensor {
  const out = new Float32Array(channels * 16);
  for (let c = 0; c < channels; c++) {
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) out[c * 16 + a * 4 + b] = FIR[a]! * FIR[b]!;
  }
  return { data: out, shape: [channels, 1, 4, 4] };
}
