/** NVIDIA networks the StyleGAN2 reader does not read are recognised and refused with a message that says why. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { readNvidiaPickle, type NvidiaNetwork } from '../src/io/nvidia-pkl.js';
import { fromNvidia } from '../src/generators/stylegan2/nvidia.js';
import { GOLDENS } from './helpers/golden.js';

const gEma = async (): Promise<NvidiaNetwork> => (await readNvidiaPickle(`${GOLDENS}sg2ada-tiny-a/network-snapshot.pkl`)).networks.G_ema!;

it('reads the supported network', async () => {
  assert.equal(fromNvidia(await gEma()).size, 32);
});

it('refuses a class-conditional generator', async () => {
  const net = await gEma();
  assert.throws(() => fromNvidia({ ...net, initKwargs: { ...net.initKwargs, c_dim: 10 } }), /class-conditional \(c_dim 10\)/);
});

it('leaves StyleGAN3 generators to the stylegan3 family: its reader refuses them, the family list reads them', async () => {
  const net = await gEma();
  const tensors = new Map(net.tensors);
  tensors.set('synthesis.input.affine.weight', { data: new Float32Array(4), shape: [4, 1] } as never);
  assert.throws(() => fromNvidia({ ...net, tensors }), /StyleGAN3/);
  const { readGeneratorFile } = await import('../src/generators/load.js');
  const sg3 = await readGeneratorFile(`${GOLDENS}sg3t-tiny-a/network-snapshot.pkl`);
  assert.equal(sg3.family.name, 'stylegan3');
  assert.equal((await readGeneratorFile(`${GOLDENS}sg2ada-tiny-a/network-snapshot.pkl`)).family.name, 'stylegan2');
});

it('refuses synthesis architectures other than skip', async () => {
  const net = await gEma();
  const synthesis_kwargs = { ...(net.initKwargs.synthesis_kwargs as object), architecture: 'resnet' };
  assert.throws(() => fromNvidia({ ...net, initKwargs: { ...net.initKwargs, synthesis_kwargs } }), /architecture "resnet"/);
});

it('applies conv_clamp from the pickled kwargs to every conv and ToRGB output', async () => {
  const { Generator } = await import('../src/generators/generator.js');
  const { stylegan2 } = await import('../src/generators/stylegan2/family.js');
  const net = await gEma();
  const clamp = 0.05;
  const synthesis_kwargs = { ...(net.initKwargs.synthesis_kwargs as object), conv_clamp: clamp };
  const arch = fromNvidia({ ...net, initKwargs: { ...net.initKwargs, synthesis_kwargs } });
  assert.equal(arch.convClamp, clamp);
  const G = new Generator(stylegan2, arch, { format: 'test', path: '-', fingerprint: '-' }, { batch: 3 });
  const z = { data: new Float32Array(3 * 64).map((_, i) => Math.sin(i)), shape: [3, 64] };
  const img = await G.generate({ z });
  await G.release();
  // Each ToRGB output is clamped to ±clamp and the skip upsampling is an average, so |img| ≤ 4 blocks · clamp.
  const peak = img.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  assert.ok(peak <= 4 * clamp + 1e-6, `peak ${peak}`);
  assert.ok(peak > clamp, 'the clamp bounds each layer, not the sum');
});
