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

test('a scripted module tree gives state_dict() names in order; typed-list attributes stay data', async () => {
  const { format, root } = await readTorchZip(fileURLToPath(new URL('./fixtures/io/script-module.pt', import.meta.url)));
  assert.equal(format, 'torchscript');
  const tensors = flattenTensors(root);
  // The order model.state_dict() printed when the fixture was made.
  assert.deepEqual(
    [...tensors.keys()],
    ['gain', 'blocks.0.scale', 'blocks.0.lin.weight', 'blocks.0.lin.bias', 'blocks.1.scale', 'blocks.1.lin.weight', 'blocks.1.lin.bias'],
  );
  assert.deepEqual(tensors.get('gain')!.shape, []);
  assert.deepEqual([...tensors.get('gain')!.data], [3]);
  assert.equal(tensors.get('blocks.1.scale')!.storedAs, 'float16');
  assert.deepEqual([...tensors.get('blocks.1.scale')!.data], [0.5, 2]);
  assert.deepEqual([...tensors.get('blocks.1.lin.weight')!.data], [10, 11, 12, 13, 14, 15]);
  assert.deepEqual([...tensors.get('blocks.1.lin.bias')!.data], [-2, -3, -4]);
  // `sizes: List[int]` is pickled through torch.jit._pickle.build_intlist.
  assert.ok(root instanceof PyObject);
  assert.deepEqual((root.state as Map<string, unknown>).get('sizes'), [4, 5]);
});
