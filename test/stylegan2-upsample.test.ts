/**
 * The two exact forms of the upsampling conv (FIR folded into a 3x3 polyphase kernel, or a 2x2 polyphase
 * transposed conv followed by a depthwise FIR) give the same images and gradients. The golden generators
 * are narrow, so they exercise only the default for narrow layers; this runs both on the same weights.
 */
import { it } from 'node:test';
import { Graph } from '../src/engine/graph.js';
import { grad } from '../src/engine/grad.js';
import { mul, sumAll } from '../src/engine/ops.js';
import { Session } from '../src/engine/session.js';
import type { StyleGAN2 } from '../src/generators/stylegan2/architecture.js';
import { synthesisNetwork } from '../src/generators/stylegan2/graph.js';
import { sampleInputs } from '../src/generators/latents.js';
import { loadGenerator } from '../src/registry/load.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';

it('fused and separate upsampling agree on images and on gradients', async () => {
  const G = await loadGenerator(`${GOLDENS}sg2ada-tiny-a/network-snapshot.pkl`);
  const arch = G.arch as StyleGAN2;
  const ws = await golden('sg2ada-tiny-a', 'ws.npy');
  const R = await golden('sg2ada-tiny-a', 'R.npy');
  const domain = (await golden('sg2ada-tiny-a', 'domain.npy')).data;
  const run = async (separateUpsampleFrom: number) => {
    const g = new Graph();
    const wsIn = g.input('ws', ws.shape);
    const domainIn = g.input('domain', [G.domainSize]);
    const noises = arch.convs.map((c, i) => g.input(`noise_${i}`, [3, 1, c.resolution, c.resolution]));
    const hooks = G.parameterisation.hooks(domainIn, G.domainLayers);
    const img = synthesisNetwork(g, arch, { ws: wsIn, noises, hooks, separateUpsampleFrom });
    const [dDomain, dWs] = grad(sumAll(mul(img, g.constant(R.data, R.shape))), [domainIn, wsIn]);
    g.output('img', img);
    g.output('d_domain', dDomain!);
    g.output('d_ws', dWs!);
    const session = await Session.fromGraph(g, { threads: 1 });
    const feeds = {
      ws, domain: { data: domain, shape: [domain.length] },
      ...Object.fromEntries(sampleInputs(G.sampleInputs, 3, 'const').map((t, i) => [`noise_${i}`, t])),
    };
    const out = await session.run(feeds);
    await session.release();
    return out;
  };
  const fused = await run(Infinity);
  const separate = await run(0);
  assertClose(separate.img!, fused.img!, 1e-5, 'images');
  assertClose(separate.d_domain!, fused.d_domain!, 1e-4, 'd/d(domain)');
  assertClose(separate.d_ws!, fused.d_ws!, 1e-4, 'd/d(ws)');
  assertClose(separate.img!, await golden('sg2ada-tiny-a', 'img_domain.npy'), 1e-4, 'separate vs golden');
});
