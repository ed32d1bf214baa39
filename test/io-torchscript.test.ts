import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PyObject } from '../src/io/pickle.js';
import { flattenTensors } from '../src/io/tensor-tree.js';
import { readTorchZip } from '../src/io/torch.js';

const GOLDEN = (name: string) => fileURLToPath(new URL(`./fixtures/goldens/${name}`, import.meta.url));

test('a TorchScript archive gives the same state dict names and values as torch.save of model.state_dict()', async () => {
  const jit = await readTorchZip(GOLDEN('clip-tiny-a/clip_jit.pt'));
  const plain = await readTorchZip(GOLDEN('clip-tiny-a/clip_state_dict.pt'));
  assert.equal(jit.format, 'torchscript');
  assert.equal(plain.format, 'torch-zip');
  assert.ok(jit.root instanceof PyObject);
  assert.equal(jit.root.className, '__torch__.clip.model.CLIP');

  const fromJit = flattenTensors(jit.root);
  const fromStateDict = flattenTensors(plain.root);
  assert.equal(fromJit.size, 62);
  assert.deepEqual([...fromJit.keys()], [...fromStateDict.keys()]);
  for (const [name, t] of fromStateDict) {
    const u = fromJit.get(name)!;
    assert.equal(u.storedAs, t.storedAs, name);
    assert.deepEqual(u.shape, t.shape, name);
    assert.deepEqual(u.data, t.data, name);
  }
  // fp16 weights arrive widened to float32, and keep saying what they were stored as.
  const conv = fromJit.get('visual.conv1.weight')!;
  assert.equal(conv.storedAs, 'float16');
  assert.ok(conv.data instanceof Float32Array);
  assert.deepEqual(conv.shape, [128, 3, 8, 8]);
  assert.deepEqual(fromJit.get('token_embedding.weight')!.shape, [49408, 64]);
  assert.ok(fromJit.has('transformer.resblocks.1.attn.in_proj_weight'));
  assert.ok(fromJit.has('visual.transformer.resblocks.0.attn.out_proj.weight'));
});
