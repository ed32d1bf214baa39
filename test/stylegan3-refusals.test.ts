/** StyleGAN3 pickles the reader cannot run faithfully are refused with a message that says why. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { readNvidiaPickle, type NvidiaNetwork } from '../src/io/nvidia-pkl.js';
import { fromNvidia } from '../src/generators/stylegan3/nvidia.js';
import { GOLDENS } from './helpers/golden.js';

const gEma = async (): Promise<NvidiaNetwork> => (await readNvidiaPickle(`${GOLDENS}sg3t-tiny-a/network-snapshot.pkl`)).networks.G_ema!;
const withKwargs = (net: NvidiaNetwork, kwargs: Record<string, unknown>): NvidiaNetwork => ({ ...net, initKwargs: { ...net.initKwargs, ...kwargs } });

it('reads the fixture with its plan: names, sizes, paddings as the manifest lists them', async () => {
  const G = fromNvidia(await gEma());
  assert.equal(G.config, 'stylegan3-t');
  assert.deepEqual(G.layers.map((l) => [l.name, l.up, l.down, ...l.padding]), [
    ['L0_36_64', 2, 2, 9, 8, 9, 8], ['L1_36_64', 2, 2, 9, 8, 9, 8], ['L2_52_45', 4, 2, -6, -9, -6, -9], ['L3_52_27', 2, 2, 9, 8, 9, 8],
    ['L4_52_16', 2, 2, 9, 8, 9, 8], ['L5_32_16', 2, 2, -11, -12, -11, -12], ['L6_32_3', 1, 1, 0, 0, 0, 0],
  ]);
});

it('refuses kwargs that plan other layers or channels than the pickle has, naming what differs', async () => {
  const net = await gEma();
  assert.throws(() => fromNvidia(withKwargs(net, { num_layers: 7 })), /its init kwargs imply layer L\d+_\d+_\d+, which it does not have/);
  assert.throws(() => fromNvidia(withKwargs(net, { channel_max: 32 })), /tensor "synthesis\.input\.weight" has shape \[64, 64\]; expected \[32, 32\]/);
});

it('refuses damaged planning kwargs before planning anything', async () => {
  const net = await gEma();
  assert.throws(() => fromNvidia(withKwargs(net, { num_layers: 1e6 })), /num_layers 1000000 is larger than any StyleGAN3 has/);
  assert.throws(() => fromNvidia(withKwargs(net, { img_resolution: 2 ** 20 })), /img_resolution 1048576 is not a power of two from 4 to 8192/);
  assert.throws(() => fromNvidia(withKwargs(net, { margin_size: -3 })), /margin_size -3 is not a positive integer/);
});

it('refuses a class-conditional generator', async () => {
  const net = await gEma();
  assert.throws(() => fromNvidia(withKwargs(net, { c_dim: 10 })), /class-conditional \(c_dim 10\)/);
});
