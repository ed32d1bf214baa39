/**
 * StyleSpace offsets (StyleDomain's s_delta) against the reference code: sg2-stylespace-a is StyleDomain's
 * patched rosinality generator on sg2-tiny-a's weights. Images with an offset (from W, and from z at
 * ψ 0.7), d(Σ img·R)/d(offset), the zero offset, and StyleDomain's no_coarse layer selection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Generator } from '../src/generators/generator.js';
import { loadGenerator } from '../src/generators/load.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';

const SET = 'sg2-stylespace-a';
const CKPT = `${GOLDENS}sg2-tiny-a/ckpt.pt`;

describe('style-offsets on sg2-tiny-a (StyleDomain s_delta)', () => {
  let G: Generator;
  before(async () => {
    G = await loadGenerator(CKPT, { batch: 3, parameterisation: 'style-offsets' });
  });
  after(() => G.release());

  it('covers every synthesis conv but no ToRGB layer, in StyleDomain order', () => {
    assert.deepEqual(G.domainLayers, [
      { name: 'conv1', dim: 32 }, { name: 'convs.0', dim: 32 }, { name: 'convs.1', dim: 32 }, { name: 'convs.2', dim: 32 },
      { name: 'convs.3', dim: 24 }, { name: 'convs.4', dim: 24 }, { name: 'convs.5', dim: 16 },
    ]);
  });

  it('images from W and from z at ψ 0.7, and the zero offset', async () => {
    const [w, z, delta] = await Promise.all([golden('sg2-tiny-a', 'w.npy'), golden('sg2-tiny-a', 'z.npy'), golden(SET, 'delta.npy')]);
    assertClose(await G.synthesize({ w, domain: delta.data, noise: 'const' }), await golden(SET, 'img_delta.npy'), 1e-4, 'img_delta');
    assertClose(await G.generate({ z, truncation: 0.7, domain: delta.data, noise: 'const' }), await golden(SET, 'img_delta_t07.npy'), 1e-4, 'img_delta_t07');
    assertClose(await G.synthesize({ w, noise: 'const' }), await golden(SET, 'img_zero.npy'), 1e-4, 'img_zero');
  });

  it('d(Σ img · R)/d(offset)', async () => {
    const [w, R, delta] = await Promise.all([golden('sg2-tiny-a', 'w.npy'), golden('sg2-tiny-a', 'R.npy'), golden(SET, 'delta.npy')]);
    const { domain } = await G.vjp({ w, domain: delta.data, noise: 'const' }, R);
    assertClose(domain, await golden(SET, 'dL_ddelta.npy'), 1e-3, 'dL/d(offset)');
  });
});

it('no-coarse trains only the layers after the first six, as StyleDomain freezes them', async () => {
  const G = await loadGenerator(CKPT, { batch: 3, parameterisation: 'style-offsets', layers: 'no-coarse' });
  try {
    assert.deepEqual(G.domainLayers, [{ name: 'convs.5', dim: 16 }]);
    const [w, R, delta, expected] = await Promise.all([
      golden('sg2-tiny-a', 'w.npy'), golden('sg2-tiny-a', 'R.npy'), golden(SET, 'delta_nocoarse.npy'), golden(SET, 'dL_ddelta_nocoarse.npy'),
    ]);
    const trained = 192 - 16;
    assert.ok(delta.data.subarray(0, trained).every((x) => x === 0), 'the golden freezes the coarse offsets at zero');
    const own = delta.data.slice(trained);
    assertClose(await G.synthesize({ w, domain: own, noise: 'const' }), await golden(SET, 'img_delta_nocoarse.npy'), 1e-4, 'img_delta_nocoarse');
    const { domain } = await G.vjp({ w, domain: own, noise: 'const' }, R);
    assertClose(domain, { data: expected.data.slice(trained), shape: [16] }, 1e-3, 'dL/d(offset), trained layers');
  } finally {
    await G.release();
  }
});
