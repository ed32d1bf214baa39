/** The published entry point (package.json `exports` → the built dist/index.js) works as documented. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { GOLDENS, assertClose, golden } from './helpers/golden.js';

it('loads a generator, synthesizes and differentiates through the package entry point', async () => {
  const ganvec = await import('ganvec');
  const G = await ganvec.loadGenerator(`${GOLDENS}sg2-tiny-a/ckpt.pt`, { batch: 3 });
  try {
    const w = await golden('sg2-tiny-a', 'w.npy');
    const domain = (await golden('sg2-tiny-a', 'domain.npy')).data;
    assertClose(await G.synthesize({ w, domain, noise: 'const' }), await golden('sg2-tiny-a', 'img_domain.npy'), 1e-4, 'img_domain');
    const grads = await G.vjp({ w, domain }, await golden('sg2-tiny-a', 'R.npy'));
    assertClose(grads.domain, await golden('sg2-tiny-a', 'dL_ddomain.npy'), 1e-3, 'dL_ddomain');
    assert.deepEqual(grads.w.shape, [3, 64]);
    assert.equal(G.domainSize, 192);
    assert.equal(typeof ganvec.adapt, 'function');
    assert.equal(typeof ganvec.loadClip, 'function');
  } finally {
    await G.release();
  }
});

it('refuses a generation setting the family does not have, naming it', async () => {
  const ganvec = await import('ganvec');
  await assert.rejects(
    ganvec.loadGenerator(`${GOLDENS}sg2-tiny-a/ckpt.pt`, { settings: { rotate: '12' } }),
    /--rotate does not apply to this StyleGAN2 generator: it has no generation settings/,
  );
});
