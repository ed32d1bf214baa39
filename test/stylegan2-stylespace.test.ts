/**
 * StyleSpace offsets (StyleDomain's s_delta) against the reference code: sg2-stylespace-a is StyleDomain's
 * patched rosinality generator on sg2-tiny-a's weights. Images with an offset (from W, and from z at
 * ψ 0.7), d(Σ img·R)/d(offset), the zero offset, and StyleDomain's no_coarse layer selection; then the
 * parameterisation through the CLI and domain files.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { baseModelMetadata, loadDomainVector, readDomainFile, writeDomainFile } from '../src/domains/domain-file.js';
import type { Generator } from '../src/generators/generator.js';
import { loadGenerator } from '../src/registry/load.js';
import { runCli } from './helpers/cli.js';
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

describe('style-offsets through the CLI', () => {
  const CLIP = `${GOLDENS}clip-tiny-a/clip_state_dict.pt`;
  it('adapt trains them, the domain file says so, and generate and eval load the generator for them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ganvec-stylespace-'));
    try {
      const offsets = join(dir, 'offsets.dv.safetensors');
      const vector = join(dir, 'vector.dv.safetensors');
      const [a, b] = await Promise.all([
        runCli(['adapt', '--from', CKPT, '--clip', CLIP, '--to', 'pixar', '--iters', '3', '--parameterisation', 'style-offsets', '--layers', 'no-coarse', '--out', offsets, '--json']),
        runCli(['adapt', '--from', CKPT, '--clip', CLIP, '--to', 'pixar', '--iters', '3', '--out', vector, '--json']),
      ]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const file = await readDomainFile(offsets);
      assert.equal(file.metadata.parameterisation, 'style-offsets');
      assert.deepEqual(file.layers, [{ name: 'convs.5', dim: 16 }]);
      assert.ok(file.vector.some((x) => x !== 0));

      const g = await runCli(['generate', '--model', CKPT, '--seeds', '0-1', '--domain', offsets, '--npy', join(dir, 'img.npy')]);
      assert.equal(g.code, 0, g.stderr);
      const scored = await runCli(['eval', '--model', CKPT, '--clip', CLIP, '--domain', offsets, '--to', 'pixar', '--n', '4', '--json']);
      assert.equal(scored.code, 0, scored.stderr);
      const mixed = await runCli(['generate', '--model', CKPT, '--seeds', '0', '--domain', offsets, '--domain', vector, '--npy', join(dir, 'mix.npy')]);
      assert.equal(mixed.code, 1);
      assert.match(mixed.stderr, /style-offsets over convs\.5\) and .*vector\.dv\.safetensors \(domain-vector over conv1,.*cannot be mixed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a generator loaded for domain vectors refuses a style-offsets file, saying how to load it', async () => {
    const offsets = await loadGenerator(CKPT, { parameterisation: 'style-offsets' });
    const plain = await loadGenerator(CKPT);
    const path = join(await mkdtemp(join(tmpdir(), 'ganvec-ss-')), 'o.dv.safetensors');
    await writeDomainFile(path, {
      vector: new Float32Array(offsets.domainSize), layers: offsets.domainLayers,
      metadata: { ...baseModelMetadata(offsets), parameterisation: 'style-offsets', prompt: 'x', losses: '{}', iterations: '0', clip_models: 'none', seed: '0' },
    });
    await assert.rejects(loadDomainVector(path, plain), /holds style-offsets values; this generator was loaded for domain-vector/);
    assert.equal((await loadDomainVector(path, offsets)).length, 192);
    await Promise.all([offsets.release(), plain.release()]);
  });
});
