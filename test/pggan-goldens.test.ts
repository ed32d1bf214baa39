/**
 * The Progressive GAN against pytorch_GAN_zoo (goldens README, pgan-tiny-a): avgG images at the
 * checkpoint's fade-in α 0.4, the netG fallback, gradients with respect to z and the domain vector, the
 * output-scale and fade-in settings, and what the reader refuses.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { readCheckpoint, type Checkpoint } from '../src/io/checkpoint.js';
import { PyObject } from '../src/io/pickle.js';
import { Generator, type GeneratorOptions } from '../src/generators/generator.js';
import { generatorFromCheckpoint } from '../src/generators/load.js';
import { loadGenerator } from '../src/registry/load.js';
import { parameterCount, paperChannels } from '../src/generators/pggan/architecture.js';
import { randomProgressiveGAN } from '../src/generators/pggan/random-weights.js';
import type { Tensor } from '../src/core/tensor.js';
import { assertClose, golden, GOLDENS, relativeError } from './helpers/golden.js';

const FORWARD = 1e-4;
const GRADIENT = 1e-3;
const SET = 'pgan-tiny-a';
const FILE = `${GOLDENS}${SET}/checkpoint.pth`;

/** The golden checkpoint read, then changed in memory (its config, or which networks it holds). */
async function changed(edit: (ck: Checkpoint, config: Map<unknown, unknown>) => void): Promise<Checkpoint> {
  const ck = await readCheckpoint(FILE);
  const config = ((ck.root as Map<unknown, unknown>).get('config') as PyObject).state as Map<unknown, unknown>;
  edit(ck, config);
  return ck;
}

function generatorOf(ck: Checkpoint, options: GeneratorOptions = {}): Generator {
  const { family, arch, format } = generatorFromCheckpoint(ck, FILE);
  return new Generator(family, arch, { format, path: FILE, fingerprint: family.fingerprint(arch) }, { batch: 3, threads: 1, ...options });
}

/** Nearest-neighbour 2x of images [N, C, H, W]. */
function upsample2(t: Tensor): Tensor {
  const [n, c, h, w] = t.shape as [number, number, number, number];
  const out = new Float32Array(n * c * 4 * h * w);
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < 2 * h; y++) for (let x = 0; x < 2 * w; x++) out[(p * 2 * h + y) * 2 * w + x] = t.data[(p * h + (y >> 1)) * w + (x >> 1)]!;
  }
  return { data: out, shape: [n, c, 2 * h, 2 * w] };
}

describe('pytorch_GAN_zoo pgan-tiny-a', async () => {
  const z = await golden(SET, 'z.npy');
  const img = await golden(SET, 'img.npy');
  const domain = (await golden(SET, 'domain.npy')).data;
  const manifest = JSON.parse(await readFile(`${GOLDENS}${SET}/manifest.json`, 'utf8')) as { domain_dims: number[] };
  let G: Generator;
  const gen = async () => (G ??= await loadGenerator(FILE, { batch: 3, threads: 1 }));
  after(() => G?.release());

  it('generates avgG(z) at the fade-in α 0.4, not netG(z)', async () => {
    const G = await gen();
    assert.equal(G.size, 32);
    assert.equal(G.nLatent, 1);
    assert.deepEqual(G.sampleInputs, []);
    const ours = await G.generate({ z });
    assertClose(ours, img, FORWARD, 'img');
    const netG = await golden(SET, 'img_netG.npy');
    assert.ok(relativeError(netG.data, img.data) > 0.05, 'the golden netG differs from avgG');
    assert.ok(relativeError(ours.data, netG.data) > 0.05, 'netG is not what is used');
  });

  it('reads netG, and says so, when the checkpoint has no avgG', async () => {
    const ck = await changed((ck) => {
      for (const name of [...ck.tensors.keys()]) if (name.startsWith('avgG.')) ck.tensors.delete(name);
    });
    const G = generatorOf(ck);
    try {
      assertClose(await G.generate({ z }), await golden(SET, 'img_netG.npy'), FORWARD, 'img_netG');
      assert.match(G.description.details.find((d) => d.key === 'network')!.shown, /netG \(the checkpoint has no avgG/);
    } finally {
      await G.release();
    }
  });

  it('reads state dicts saved without `.module.` in the names, as pytorch_GAN_zoo also loads them', async () => {
    const ck = await changed((ck) => {
      for (const [name, t] of [...ck.tensors]) {
        ck.tensors.delete(name);
        ck.tensors.set(name.replace('.module.', '.'), t);
      }
    });
    assert.ok(ck.tensors.has('avgG.formatLayer.weight'));
    const G = generatorOf(ck);
    try {
      assertClose(await G.generate({ z }), img, FORWARD, 'img');
    } finally {
      await G.release();
    }
  });

  it("reads the legacy torch.save stream the hub's 2019 files use", async () => {
    const G = await loadGenerator(fileURLToPath(new URL('fixtures/io/pgan-legacy.pth', import.meta.url)), { batch: 3, threads: 1 });
    try {
      assert.equal(G.source.format, 'pytorch-gan-zoo');
      assertClose(await G.generate({ z }), img, FORWARD, 'img');
    } finally {
      await G.release();
    }
  });

  it('maps z to itself (no mapping network) and refuses truncation', async () => {
    const G = await gen();
    assert.deepEqual((await G.mapping(z)).data, z.data);
    await assert.rejects(G.generate({ z, truncation: 0.7 }), /truncation 0.7 does not apply to this Progressive GAN generator: .*no mapping network/);
  });

  it('differentiates with respect to z (= w)', async () => {
    assertClose((await (await gen()).vjp({ w: z }, await golden(SET, 'R.npy'))).w, await golden(SET, 'dL_dz.npy'), GRADIENT, 'dL_dz');
  });

  it('scales the input of every 3x3 conv by the domain vector, and differentiates it', async () => {
    const G = await gen();
    assert.deepEqual(G.domainLayers.map((l) => l.name), ['groupScale0.0', 'scaleLayers.0.0', 'scaleLayers.0.1', 'scaleLayers.1.0', 'scaleLayers.1.1', 'scaleLayers.2.0', 'scaleLayers.2.1']);
    assert.deepEqual(G.domainLayers.map((l) => l.dim), manifest.domain_dims);
    assertClose(await G.synthesize({ w: z, domain }), await golden(SET, 'img_domain.npy'), FORWARD, 'img_domain');
    assertClose((await G.vjp({ w: z, domain }, await golden(SET, 'R.npy'))).domain, await golden(SET, 'dL_ddomain.npy'), GRADIENT, 'dL_ddomain');
  });

  it('generates at an earlier scale and with another fade-in', async () => {
    const at = async (settings: Record<string, string>) => {
      const G = await loadGenerator(FILE, { batch: 3, threads: 1, settings });
      try {
        return { size: G.size, img: await G.generate({ z }) };
      } finally {
        await G.release();
      }
    };
    const scale2 = await at({ scale: '2' });
    assert.equal(scale2.size, 16);
    assert.deepEqual(scale2.img.shape, [3, 3, 16, 16]);
    const grown = await at({ alpha: '0' });
    const previousOnly = await at({ alpha: '1' });
    // α 1 is the previous scale's image upsampled; the golden α 0.4 blends it with the grown scale's.
    assertClose(previousOnly.img, upsample2(scale2.img), 1e-6, 'alpha 1 = scale 2 upsampled');
    const blend = grown.img.data.map((x, i) => 0.4 * previousOnly.img.data[i]! + 0.6 * x);
    assertClose(blend, img, FORWARD, '0.4 · up(scale 2) + 0.6 · (alpha 0)');
    assert.ok(relativeError(grown.img.data, img.data) > 0.01, 'alpha 0 differs from the checkpoint fade-in');
    // An earlier scale finished growing before the next was added: its default α is 0, not the checkpoint's.
    const scale2Blended = await at({ scale: '2', alpha: '0.5' });
    assert.ok(relativeError(scale2Blended.img.data, scale2.img.data) > 0.01, 'an explicit alpha applies at scale 2');
  });

  it('keeps the whole domain vector at an earlier scale; the layers after it get no gradient there', async () => {
    const G = await loadGenerator(FILE, { batch: 3, threads: 1, settings: { scale: '1' } });
    try {
      assert.equal(G.domainSize, 192);
      const R = { data: Float32Array.from({ length: 3 * 3 * 8 * 8 }, (_, i) => Math.sin(i)), shape: [3, 3, 8, 8] };
      const { domain: d } = await G.vjp({ w: z, domain }, R);
      const used = 32 + 32 + 32; // groupScale0.0, scaleLayers.0.0, scaleLayers.0.1
      assert.ok(d.subarray(0, used).every((x) => x !== 0), 'the convs up to scale 1 have gradients');
      assert.ok(d.subarray(used).every((x) => x === 0), 'the later convs have none');
    } finally {
      await G.release();
    }
  });

  it('refuses a scale or fade-in it does not have', async () => {
    await assert.rejects(loadGenerator(FILE, { settings: { scale: '4' } }), /--scale 4: this generator's scales are 0 … 3 \(4x4, 8x8, 16x16, 32x32\)/);
    await assert.rejects(loadGenerator(FILE, { settings: { scale: '-1' } }), /--scale -1/);
    await assert.rejects(loadGenerator(FILE, { settings: { alpha: '1.5' } }), /--alpha 1.5: the fade-in is a number in \[0, 1\]/);
    await assert.rejects(loadGenerator(FILE, { settings: { scale: '0', alpha: '0.5' } }), /scale 0 has no previous scale/);
    await assert.rejects(loadGenerator(FILE, { settings: { rotate: '10' } }), /--rotate does not apply to this Progressive GAN generator: its settings are --scale, --alpha/);
  });

  it('applies the tanh of the MSE and DCGAN losses', async () => {
    const G = generatorOf(await changed((_ck, config) => config.set('lossCriterion', 'DCGAN')));
    try {
      assertClose(await G.generate({ z }), { data: img.data.map(Math.tanh), shape: img.shape }, FORWARD, 'tanh(img)');
    } finally {
      await G.release();
    }
  });

  it('refuses configurations pytorch_GAN_zoo cannot run or ganvec cannot show', async () => {
    const refused = async (edit: Parameters<typeof changed>[0], message: RegExp) => {
      const ck = await changed(edit);
      assert.throws(() => generatorFromCheckpoint(ck, FILE), message);
    };
    await refused((_ck, c) => c.set('perChannelNormalization', false), /perChannelNormalization is false: pytorch_GAN_zoo's GNet cannot run/);
    await refused((_ck, c) => c.set('lossCriterion', 'Hinge'), /lossCriterion "Hinge" is not one of pytorch_GAN_zoo's/);
    await refused((_ck, c) => c.set('depthOtherScales', [32, 24]), /depthOtherScales lists 2 added scales but avgG has 3/);
    await refused((_ck, c) => c.set('alpha', 2), /config.alpha is 2/);
    await refused((ck) => ck.tensors.delete('avgG.scaleLayers.1.1.module.bias'), /missing tensor "avgG.scaleLayers.1.1.module.bias"/);
    await refused((_ck, c) => c.set('leakyReluLeak', 'x'), /config.leakyReluLeak is "x"; expected a number/);
    await refused((ck) => (ck.root as Map<unknown, unknown>).delete('config'), /it has avgG weights but no config \(the pickled BaseConfig/);
  });
});

it("the paper's 1024x1024 generator (the bench's random one): its channel table and 23.1 million parameters", () => {
  assert.deepEqual(paperChannels(1024), [512, 512, 512, 512, 256, 128, 64, 32, 16]);
  const G = randomProgressiveGAN({ size: 1024 });
  assert.equal(G.scales.at(-1)!.resolution, 1024);
  assert.equal(Math.round(parameterCount(G) / 1e5) / 10, 23.1);
});
