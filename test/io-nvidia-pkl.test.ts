import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PersistentObject, parseNvidiaPickle, readNvidiaPickle } from '../src/io/nvidia-pkl.js';
import { PickleBuilder } from './fixtures/io/build-pickle.js';

const GOLDEN = (name: string) => fileURLToPath(new URL(`./fixtures/goldens/sg2ada-tiny-a/${name}`, import.meta.url));
const manifest = JSON.parse(readFileSync(GOLDEN('manifest.json'), 'utf8')) as { G_init_kwargs: unknown; D_init_kwargs: unknown };

test('NVIDIA network pickles: protocols 4 and 3 give identical networks, as data', async () => {
  const p4 = await readNvidiaPickle(GOLDEN('network-snapshot.pkl'));
  const p3 = await readNvidiaPickle(GOLDEN('network-snapshot-p3.pkl'));
  for (const snapshot of [p4, p3]) {
    assert.deepEqual(Object.keys(snapshot.networks), ['G', 'D', 'G_ema']);
    assert.deepEqual(snapshot.other, { training_set_kwargs: null, augment_pipe: null });
    assert.equal(snapshot.networks.G_ema.className, 'Generator');
    assert.equal(snapshot.networks.D.className, 'Discriminator');
    assert.deepEqual(snapshot.networks.G_ema.initKwargs, manifest.G_init_kwargs);
    assert.deepEqual(snapshot.networks.D.initKwargs, manifest.D_init_kwargs);
  }

  const ema4 = p4.networks.G_ema.tensors;
  const ema3 = p3.networks.G_ema.tensors;
  assert.deepEqual([...ema3.keys()], [...ema4.keys()]);
  for (const [name, t] of ema4) assert.deepEqual(ema3.get(name)!.data, t.data, name);

  const expectedShapes: Record<string, number[]> = {
    'mapping.w_avg': [64],
    'mapping.fc0.weight': [64, 64],
    'mapping.fc1.bias': [64],
    'synthesis.b4.const': [32, 4, 4],
    'synthesis.b4.conv1.weight': [32, 32, 3, 3],
    'synthesis.b4.conv1.affine.weight': [32, 64],
    'synthesis.b4.conv1.noise_strength': [],
    'synthesis.b8.conv0.weight': [32, 32, 3, 3],
    'synthesis.b8.conv0.noise_const': [8, 8],
    'synthesis.b16.conv0.weight': [24, 32, 3, 3],
    'synthesis.b32.conv1.weight': [12, 12, 3, 3],
    'synthesis.b32.torgb.weight': [3, 12, 1, 1],
    'synthesis.b32.resample_filter': [4, 4],
  };
  for (const [name, shape] of Object.entries(expectedShapes)) assert.deepEqual(ema4.get(name)?.shape, shape, name);

  // G is the raw training network: same layout, different values.
  const raw = p4.networks.G.tensors;
  assert.deepEqual([...raw.keys()], [...ema4.keys()]);
  assert.notDeepEqual(raw.get('synthesis.b8.conv0.weight')!.data, ema4.get('synthesis.b8.conv0.weight')!.data);
});

test('a network pickle whose top level is not a dict is an error naming the file', () => {
  assert.throws(() => parseNvidiaPickle(Uint8Array.of(0x80, 2, 0x4e, 0x2e), 'none.pkl'), /^CheckpointError: none\.pkl: not a network pickle/);
  // The TensorFlow releases pickle a tuple (G, D, Gs) of dnnlib.tflib Network objects.
  const tf = new PickleBuilder().proto().mark();
  for (let i = 0; i < 3; i++) tf.global('dnnlib.tflib.network', 'Network').emptyTuple().newobj().emptyDict().build();
  tf.tuple().stop();
  assert.throws(() => parseNvidiaPickle(tf.bytes(), 'tf.pkl'), /^CheckpointError: tf\.pkl: this is a TensorFlow-era StyleGAN pickle/);
});

test('NumPy scalars in network state become numbers; persistent objects keep their class name and source as data', async () => {
  const { root } = await readNvidiaPickle(GOLDEN('network-snapshot.pkl'));
  const submodules = (object: unknown) => ((object as PersistentObject).state as Map<string, unknown>).get('_modules') as Map<string, unknown>;
  const mapping = submodules((root as Map<string, unknown>).get('G_ema')).get('mapping') as PersistentObject;
  const fc0 = submodules(mapping).get('fc0') as PersistentObject;
  assert.equal(mapping.className, 'MappingNetwork');
  assert.equal(fc0.className, 'FullyConnectedLayer');
  assert.match(fc0.moduleSource, /class FullyConnectedLayer/);
  // weight_gain = lr_multiplier / sqrt(in_features) = 0.01 / 8, pickled as numpy.float64.
  assert.equal((fc0.state as Map<string, unknown>).get('weight_gain'), 0.01 / 8);
});
