/**
 * The StyleGAN2 name maps check every tensor they read against the architecture the others imply, so a
 * tensor of the wrong shape is refused by name instead of reaching the graph builder ("MatMul: [1, 64] @
 * [2, 32]"), and NVIDIA init kwargs that cannot describe a generator are refused.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { readNvidiaPickle, type NvidiaNetwork } from '../src/io/nvidia-pkl.js';
import type { LoadedTensor } from '../src/io/storage.js';
import { fromNvidia } from '../src/generators/stylegan2/nvidia.js';
import { fromRosinality } from '../src/generators/stylegan2/rosinality.js';
import { GOLDENS } from './helpers/golden.js';

const rosinality = (await readCheckpoint(`${GOLDENS}sg2-tiny-a/ckpt.pt`)).tensors;
const gEma = (await readNvidiaPickle(`${GOLDENS}sg2ada-tiny-a/network-snapshot.pkl`)).networks.G_ema!;

/** The same values with one more element along the last axis, or a [1] tensor for a scalar. */
function misshapen(t: LoadedTensor): { data: Float32Array; shape: number[] } {
  const shape = t.shape.length === 0 ? [2] : [...t.shape.slice(0, -1), t.shape[t.shape.length - 1]! + 1];
  return { data: new Float32Array(shape.reduce((n, d) => n * d, 1)), shape };
}

/** Filters that the maps do not read: the FIR is always [1, 3, 3, 1]. */
const UNREAD = /(blur|upsample)\.kernel$|resample_filter$/;

it('rosinality: every tensor the map reads is checked, and a wrong one is named', () => {
  let checked = 0;
  for (const [name, t] of rosinality) {
    if (UNREAD.test(name)) continue;
    const broken = new Map(rosinality);
    broken.set(name, misshapen(t) as never);
    assert.throws(() => fromRosinality(broken), new RegExp(`tensor "${name.replaceAll('.', '\\.')}" has shape \\[`), name);
    checked++;
  }
  assert.equal(checked, 68);
});

it('rosinality: the message says what was expected', () => {
  const broken = new Map(rosinality);
  broken.set('g_ema.style.2.weight', { data: new Float32Array(64), shape: [2, 32] } as never);
  assert.throws(() => fromRosinality(broken), /^Error: tensor "g_ema\.style\.2\.weight" has shape \[2, 32\]; expected \[64, 64\]$/);
});

it('NVIDIA: every tensor the map reads is checked, and a wrong one is named', () => {
  let checked = 0;
  for (const [name, t] of gEma.tensors) {
    if (UNREAD.test(name)) continue;
    const tensors = new Map(gEma.tensors);
    tensors.set(name, misshapen(t) as never);
    assert.throws(() => fromNvidia({ ...gEma, tensors }), new RegExp(`tensor "${name.replaceAll('.', '\\.')}" has shape \\[`), name);
    checked++;
  }
  assert.equal(checked, 64);
});

it('NVIDIA: img_resolution must be a power of two of at least 4, and the other sizes positive integers', () => {
  const withKwargs = (kwargs: Record<string, unknown>): NvidiaNetwork => ({ ...gEma, initKwargs: { ...gEma.initKwargs, ...kwargs } });
  for (const resolution of [NaN, 0, -32, 8.5, 48, '32', null]) {
    assert.throws(() => fromNvidia(withKwargs({ img_resolution: resolution })), /img_resolution .* is not a power of two ≥ 4/, String(resolution));
  }
  // 16 is a valid resolution but not this network's: the tensors of b32 are left over.
  assert.throws(() => fromNvidia(withKwargs({ img_resolution: 16 })), /img_resolution 16 but it has layers for 32/);
  assert.throws(() => fromNvidia(withKwargs({ w_dim: NaN, z_dim: NaN })), /w_dim NaN is not a positive integer/);
  assert.throws(() => fromNvidia(withKwargs({ mapping_kwargs: { lr_multiplier: NaN } })), /mapping lr_multiplier NaN is not a positive number/);
  const synthesis_kwargs = { ...(gEma.initKwargs.synthesis_kwargs as object), conv_clamp: -1 };
  assert.throws(() => fromNvidia(withKwargs({ synthesis_kwargs })), /conv_clamp -1 is not a positive number/);
});
