/** Parity with NVlabs/stylegan3 on the golden sets sg3t-tiny-a and sg3r-tiny-a (goldens README). */
import { after, describe, it } from 'node:test';
import { loadGenerator } from '../src/registry/load.js';
import type { Generator } from '../src/generators/generator.js';
import { toWPlus, truncate } from '../src/generators/latents.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';

const FORWARD = 1e-4;
const GRADIENT = 1e-3;

for (const set of ['sg3t-tiny-a', 'sg3r-tiny-a']) {
  describe(set, async () => {
    const z = await golden(set, 'z.npy');
    const domain = (await golden(set, 'domain.npy')).data;
    let G: Generator;
    const gen = async () => (G ??= await loadGenerator(`${GOLDENS}${set}/network-snapshot.pkl`, { batch: 3, threads: 1 }));
    after(() => G?.release());

    it('maps z to W+ with and without truncation', async () => {
      const G = await gen();
      const ws = toWPlus(await G.mapping(z), G.nLatent);
      assertClose(ws, await golden(set, 'ws.npy'), FORWARD, 'ws');
      assertClose(truncate(ws, await G.wAvg(), 0.7), await golden(set, 'ws_t07.npy'), FORWARD, 'ws_t07');
    });
    it('generates at ψ 1 and 0.7, and from mixed styles', async () => {
      const G = await gen();
      assertClose(await G.generate({ z }), await golden(set, 'img.npy'), FORWARD, 'img');
      assertClose(await G.generate({ z, truncation: 0.7 }), await golden(set, 'img_t07.npy'), FORWARD, 'img_t07');
      assertClose(await G.synthesize({ w: await golden(set, 'ws_mix4.npy') }), await golden(set, 'img_mix4.npy'), FORWARD, 'img_mix4');
    });
    it('applies a domain vector', async () => {
      const G = await gen();
      assertClose(await G.synthesize({ w: await golden(set, 'ws.npy'), domain }), await golden(set, 'img_domain.npy'), FORWARD, 'img_domain');
      assertClose(await G.generate({ z, truncation: 0.7, domain }), await golden(set, 'img_domain_t07.npy'), FORWARD, 'img_domain_t07');
    });
    it('differentiates synthesis with respect to W+ and the domain vector', async () => {
      const G = await gen();
      const ws = await golden(set, 'ws.npy');
      const R = await golden(set, 'R.npy');
      assertClose((await G.vjp({ w: ws }, R)).w, await golden(set, 'dL_dws.npy'), GRADIENT, 'dL_dws');
      assertClose((await G.vjp({ w: ws, domain }, R)).domain, await golden(set, 'dL_ddomain.npy'), GRADIENT, 'dL_ddomain');
    });
  });
}
