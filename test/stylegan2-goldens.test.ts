/** Parity with the PyTorch references on the golden sets (DESIGN.md §3; goldens README). */
import { after, describe, it } from 'node:test';
import { loadGenerator } from '../src/registry/load.js';
import type { Generator } from '../src/generators/generator.js';
import { toWPlus, truncate } from '../src/generators/latents.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';

const FORWARD = 1e-4;
const GRADIENT = 1e-3;

describe('rosinality sg2-tiny-a', async () => {
  const set = 'sg2-tiny-a';
  const z = await golden(set, 'z.npy');
  const z2 = await golden(set, 'z2.npy');
  const domain = (await golden(set, 'domain.npy')).data;
  for (const file of ['ckpt.pt', 'ckpt_strided.pt']) {
    describe(file, () => {
      let G: Generator;
      const gen = async () => (G ??= await loadGenerator(`${GOLDENS}${set}/${file}`, { batch: 3, threads: 1 }));
      after(() => G?.release());

      it('maps z to w', async () => assertClose(await (await gen()).mapping(z), await golden(set, 'w.npy'), FORWARD, 'w'));
      it('generates at truncation 1 and 0.7', async () => {
        assertClose(await (await gen()).generate({ z }), await golden(set, 'img_t1.npy'), FORWARD, 'img_t1');
        assertClose(await (await gen()).generate({ z, truncation: 0.7 }), await golden(set, 'img_t07.npy'), FORWARD, 'img_t07');
      });
      it('mixes styles and drops noise', async () => {
        assertClose(await (await gen()).generate({ z, mixZ: z2, mixIndex: 3 }), await golden(set, 'img_mix3.npy'), FORWARD, 'img_mix3');
        assertClose(await (await gen()).generate({ z, noise: 'none' }), await golden(set, 'img_nonoise.npy'), FORWARD, 'img_nonoise');
      });
      it('applies a domain vector', async () => {
        const G = await gen();
        const w = await G.mapping(z);
        assertClose(await G.synthesize({ w, domain }), await golden(set, 'img_domain.npy'), FORWARD, 'img_domain');
        assertClose(await G.generate({ z, truncation: 0.7, domain }), await golden(set, 'img_domain_t07.npy'), FORWARD, 'img_domain_t07');
      });
      it('differentiates synthesis with respect to w and the domain vector', async () => {
        const G = await gen();
        const w = await G.mapping(z);
        const R = await golden(set, 'R.npy');
        assertClose((await G.vjp({ w }, R)).w, await golden(set, 'dL_dw.npy'), GRADIENT, 'dL_dw');
        assertClose((await G.vjp({ w, domain }, R)).domain, await golden(set, 'dL_ddomain.npy'), GRADIENT, 'dL_ddomain');
      });
    });
  }
});

describe('NVIDIA sg2ada-tiny-a', async () => {
  const set = 'sg2ada-tiny-a';
  const z = await golden(set, 'z.npy');
  const domain = (await golden(set, 'domain.npy')).data;
  for (const file of ['network-snapshot.pkl', 'network-snapshot-p3.pkl']) {
    describe(file, () => {
      let G: Generator;
      const gen = async () => (G ??= await loadGenerator(`${GOLDENS}${set}/${file}`, { batch: 3, threads: 1 }));
      after(() => G?.release());

      it('maps z to W+ with and without truncation', async () => {
        const G = await gen();
        const ws = toWPlus(await G.mapping(z), G.nLatent);
        assertClose(ws, await golden(set, 'ws.npy'), FORWARD, 'ws');
        assertClose(truncate(ws, await G.wAvg(), 0.7), await golden(set, 'ws_t07.npy'), FORWARD, 'ws_t07');
      });
      it('generates with const and no noise, truncation 0.7, and mixed styles', async () => {
        const G = await gen();
        assertClose(await G.generate({ z }), await golden(set, 'img_const.npy'), FORWARD, 'img_const');
        assertClose(await G.generate({ z, noise: 'none' }), await golden(set, 'img_none.npy'), FORWARD, 'img_none');
        assertClose(await G.generate({ z, truncation: 0.7 }), await golden(set, 'img_t07.npy'), FORWARD, 'img_t07');
        assertClose(await G.synthesize({ w: await golden(set, 'ws_mix3.npy') }), await golden(set, 'img_mix3.npy'), FORWARD, 'img_mix3');
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
});
