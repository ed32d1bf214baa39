/** CLIP name maps and the checks on what they produce: ResNet CLIPs, broken shapes, files that are not CLIP. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Tensor } from '../src/core/tensor.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { loadClip } from '../src/registry/load.js';
import { fromOpenAI } from '../src/clip/openai.js';
import { GOLDENS } from './helpers/golden.js';

const tiny = (await readCheckpoint(`${GOLDENS}clip-tiny-a/clip_state_dict.pt`)).tensors as Map<string, Tensor>;

describe('CLIP weights', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ganvec-clip-weights-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the configuration off the shapes, as build_model does, ignoring TorchScript scalars', () => {
    const withScalars = new Map(tiny);
    for (const name of ['input_resolution', 'context_length', 'vocab_size']) withScalars.set(name, { data: Float32Array.of(1), shape: [] });
    const { config, logitScale } = fromOpenAI(withScalars);
    assert.deepEqual(config.vision, { width: 128, layers: 2, heads: 2, patchSize: 8, grid: 4, resolution: 32 });
    assert.deepEqual(config.text, { width: 64, layers: 2, heads: 1, contextLength: 77, vocabSize: 49408 });
    assert.equal(logitScale, tiny.get('logit_scale')!.data[0]);
  });

  it('refuses a ResNet CLIP, saying only the ViT family is supported', async () => {
    const resnet = new Map([...tiny].filter(([k]) => !k.startsWith('visual.')));
    resnet.set('visual.layer1.0.conv1.weight', { data: new Float32Array(64 * 64), shape: [64, 64, 1, 1] });
    resnet.set('visual.attnpool.positional_embedding', { data: new Float32Array(50 * 64), shape: [50, 64] });
    const file = join(dir, 'rn50.safetensors');
    await writeSafetensors(file, resnet);
    await assert.rejects(loadClip(file), /rn50\.safetensors: this is a ResNet CLIP .*only the ViT family/);
  });

  it('names a tensor whose shape does not fit the rest', () => {
    const broken = new Map(tiny);
    broken.set('visual.transformer.resblocks.1.mlp.c_fc.weight', { data: new Float32Array(500 * 128), shape: [500, 128] });
    assert.throws(() => fromOpenAI(broken), /vision block 1 mlp c_fc weight has shape \[500, 128\]; expected \[512, 128\]/);
    const missing = new Map(tiny);
    missing.delete('ln_final.bias');
    assert.throws(() => fromOpenAI(missing), /missing tensor "ln_final.bias"/);
  });

  it('refuses a checkpoint that is not CLIP', async () => {
    await assert.rejects(loadClip(`${GOLDENS}sg2-tiny-a/ckpt.pt`), /ckpt\.pt: it holds no CLIP model/);
  });
});
