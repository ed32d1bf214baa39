/**
 * encoder4editing's Encoder4Editing against its own code on shrunk random weights (goldens/e4e-tiny-a, made
 * by its make_golden.py): the input transform of a PNG and the W+ of one forward pass; then the refusals.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCheckpoint } from '../src/io/checkpoint.js';
import type { NamedTensors } from '../src/io/named-tensors.js';
import { readRgb } from '../src/faces/align-photo.js';
import { e4eLayout, e4eWeightsFrom, readE4e } from '../src/encoders/e4e.js';
import { checkE4eFits, E4eEncoder, e4eInput } from '../src/encoders/e4e-encoder.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';

const SET = 'e4e-tiny-a';
const CKPT = `${GOLDENS}${SET}/e4e.pt`;
const OPTS = { encoderType: 'Encoder4Editing', styleganSize: 32, startFromLatentAvg: true };

test('e4e input: Resize((256, 256)) of a PIL image, ToTensor, Normalize(0.5, 0.5), as torchvision does', async () => {
  const x = e4eInput(await readRgb(`${GOLDENS}${SET}/input.png`));
  assertClose(x, await golden(SET, 'input.npy'), 1e-6, 'input');
});

test('Encoder4Editing + latent_avg: W+ within 1e-4 of encoder4editing', async () => {
  const encoder = await E4eEncoder.fromFile(CKPT, { threads: 1 });
  try {
    assert.deepEqual([encoder.rows, encoder.dim, encoder.styleganSize], [8, 32, 32]);
    const ws = await encoder.encode(await golden(SET, 'input.npy'));
    const expected = await golden(SET, 'w.npy');
    assertClose(ws, expected, 1e-4, 'W+');
    // The encoder's own part, without latent_avg, to the same tolerance of its own scale.
    const { latentAvg } = await readE4e(CKPT);
    const own = (t: Float32Array) => t.map((v, i) => v - latentAvg!.data[i]!);
    assertClose(own(ws.data), { data: own(expected.data), shape: expected.shape }, 1e-4, 'W+ − latent_avg');
  } finally {
    await encoder.release();
  }
});

test('a generator, a pSp encoder of another kind and a damaged e4e are refused, each in one line', async () => {
  await assert.rejects(readE4e(`${GOLDENS}sg2-tiny-a/ckpt.pt`), (err: Error) => {
    assert.match(err.message, /ckpt\.pt: not an encoder4editing checkpoint: no state_dict with encoder\.\* weights \(its tensors start g_ema\./);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  const tensors = (await readCheckpoint(CKPT)).tensors as NamedTensors;
  assert.throws(() => e4eWeightsFrom(tensors, { ...OPTS, encoderType: 'GradualStyleEncoder' }), /encoder_type is "GradualStyleEncoder": a pSp checkpoint of another encoder, not e4e/);
  assert.throws(() => e4eWeightsFrom(tensors, { ...OPTS, styleganSize: 64 }), /styles\.8 has 0 convolutions; row 8 of Encoder4Editing has 6/);
  const damaged = new Map(tensors);
  damaged.delete('state_dict.encoder.body.13.res_layer.4.running_var');
  assert.throws(() => e4eWeightsFrom(damaged, OPTS), /missing tensor "state_dict\.encoder\.body\.13\.res_layer\.4\.running_var"/);
  const reshaped = new Map(tensors);
  reshaped.set('latent_avg', { data: new Float32Array(7 * 32), shape: [7, 32] });
  assert.throws(() => e4eWeightsFrom(reshaped, OPTS), /latent_avg has shape \[7, 32\]; expected \[8, 32\] or \[32\]/);
});

test('the encoder refuses a generator of another size or W+ layout, before building its session', async () => {
  const tiny = { name: 'sg3r-tiny-a', size: 32, nLatent: 8, styleDim: 32 };
  const w = await readE4e(CKPT);
  checkE4eFits(e4eLayout(w), CKPT, tiny);
  assert.throws(
    () => checkE4eFits(e4eLayout(w), 'e4e.pt', { ...tiny, name: 'sg2-tiny-a', styleDim: 64 }),
    /^Error: the e4e encoder e4e\.pt gives W\+ \[8, 32\] for a 32 px generator; sg2-tiny-a is 32 px with W\+ \[8, 64\]: use the generator the encoder was trained with$/,
  );
  await assert.rejects(E4eEncoder.fromWeights(w, CKPT, { generator: { ...tiny, name: 'big', size: 1024 } }), /big is 1024 px with W\+ \[8, 32\]/);
  await assert.rejects(E4eEncoder.fromWeights(w, CKPT, { generator: { ...tiny, name: 'ffhq', nLatent: 18 } }), /ffhq is 32 px with W\+ \[18, 32\]/);
});
