/**
 * Host-side kernel algebra for 2x upsampling without ConvTranspose (7x slower in ONNX Runtime).
 *
 * StyleGAN2 upsamples by a stride-2 transposed 3x3 conv followed by the [1,3,3,1] FIR blur (pads 1,1,
 * gain 4), and the RGB skip path by zero-insertion + the same FIR (pads 2,1, gain 4). Both are linear and
 * shift-invariant per output phase, so each becomes ONE stride-1 3x3 conv at the low resolution that
 * writes the four output phases as channel blocks, followed by DepthToSpace (DCR order: channel
 * (py·2 + px)·C + c lands at (2y + py, 2x + px)).
 *
 * 1-D derivation (K = [1,3,3,1]/4 per axis, the 2-D filter being its outer product):
 *   conv:  out[2m+p] = Σ_{t∈{-1,0,1}} x[m+t] · E[p − 2t],  E[u] = Σ_a K[a] · W[u + a − 1]  (u ∈ −2..3)
 *   skip:  out[2m]   = (x[m−1] + 3x[m]) / 4,   out[2m+1] = (3x[m] + x[m+1]) / 4
 */
import type { Tensor } from '../../core/tensor.js';

const FIR = [1 / 4, 3 / 4, 3 / 4, 1 / 4];

/** E[u] for u = −2..3, stored at index u + 2: the transposed 3-tap kernel smoothed by the FIR. */
function composed1d(w: (k: number) => number): number[] {
  const e = new Array<number>(6).fill(0);
  for (let u = -2; u <= 3; u++) {
    for (let a = 0; a < 4; a++) {
      const k = u + a - 1;
      if (k >= 0 && k <= 2) e[u + 2]! += FIR[a]! * w(k);
    }
  }
  return e;
}

/**
 * Weight [O, I, 3, 3] of the transposed conv (as rosinality/NVIDIA store it, used un-flipped) →
 * polyphase weight [4·O, I, 3, 3] for conv(pad 1) + DepthToSpace(2).
 */
export function polyphaseUpsampleConv(weight: Tensor): Tensor {
  const [o, i] = weight.shape as [number, number, number, number];
  const out = new Float32Array(4 * o * i * 9);
  const src = weight.data;
  // The 2-D composed kernel is separable in the FIR but not in W: compose along y, then x.
  const e = new Float32Array(36);
  for (let oc = 0; oc < o; oc++) {
    for (let ic = 0; ic < i; ic++) {
      const base = (oc * i + ic) * 9;
      const rows: number[][] = [];
      for (let ky = 0; ky < 3; ky++) rows.push(composed1d((kx) => src[base + ky * 3 + kx]!));
      for (let v = 0; v < 6; v++) {
        const col = composed1d((ky) => rows[ky]![v]!);
        for (let u = 0; u < 6; u++) e[u * 6 + v] = col[u]!;
      }
      for (let py = 0; py < 2; py++) {
        for (let px = 0; px < 2; px++) {
          const oc4 = (py * 2 + px) * o + oc;
          for (let jy = 0; jy < 3; jy++) {
            for (let jx = 0; jx < 3; jx++) {
              out[((oc4 * i + ic) * 3 + jy) * 3 + jx] = e[(py + 4 - 2 * jy) * 6 + (px + 4 - 2 * jx)]!;
            }
          }
        }
      }
    }
  }
  return { data: out, shape: [4 * o, i, 3, 3] };
}

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

/**
 * Wide layers take the cheaper route: the transposed conv alone as a 2x2 polyphase conv (16 taps per
 * input pixel instead of 36), then the FIR as a depthwise 4x4 conv at the high resolution. With
 * q the output phase and t ∈ {−1, 0} the input offset, the transposed conv's samples are
 *   V[2j + q] = T[2j + q − 1]:  V0[j] = x[j−1]·W[1],  V1[j] = x[j]·W[0] + x[j−1]·W[2],  j ∈ [0, H]
 * so conv(pad 1, 2x2) + DepthToSpace gives V over 2H + 2 samples, and the blur (pads 0 before, 1 after)
 * reads B[y] = Σₐ K[a]·V[y + a], y ∈ [0, 2H).
 */
const TAP_ROW = [
  [1, -1], // phase 0: offset −1 → W[1]; offset 0 → none
  [2, 0], // phase 1: offset −1 → W[2]; offset 0 → W[0]
];

/** Weight [O, I, 3, 3] → [4·O, I, 2, 2] for conv(pads 1) + DepthToSpace(2), before the FIR. */
export function polyphaseTransposedConv(weight: Tensor): Tensor {
  const [o, i] = weight.shape as [number, number, number, number];
  const out = new Float32Array(4 * o * i * 4);
  for (let qy = 0; qy < 2; qy++) {
    for (let qx = 0; qx < 2; qx++) {
      for (let oc = 0; oc < o; oc++) {
        const oc4 = (qy * 2 + qx) * o + oc;
        for (let ic = 0; ic < i; ic++) {
          for (let ty = 0; ty < 2; ty++) {
            for (let tx = 0; tx < 2; tx++) {
              const ky = TAP_ROW[qy]![ty]!;
              const kx = TAP_ROW[qx]![tx]!;
              if (ky < 0 || kx < 0) continue;
              out[((oc4 * i + ic) * 2 + ty) * 2 + tx] = weight.data[((oc * i + ic) * 3 + ky) * 3 + kx]!;
            }
          }
        }
      }
    }
  }
  return { data: out, shape: [4 * o, i, 2, 2] };
}

/** The [1,3,3,1] FIR with gain 4 as a depthwise kernel [C, 1, 4, 4]. */
export function firDepthwise(channels: number): Tensor {
  const out = new Float32Array(channels * 16);
  for (let c = 0; c < channels; c++) {
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) out[c * 16 + a * 4 + b] = FIR[a]! * FIR[b]!;
  }
  return { data: out, shape: [channels, 1, 4, 4] };
}
