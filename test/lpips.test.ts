/**
 * LPIPS-VGG16 against PerceptualSimilarity's own code on shrunk random weights (goldens/lpips-tiny-a, made
 * by its make_golden.py): the distance of two image pairs and its gradient with respect to the first images.
 */
import { test } from 'node:test';
import { Graph } from '../src/engine/graph.js';
import { grad } from '../src/engine/grad.js';
import { sumAll } from '../src/engine/ops.js';
import { Session } from '../src/engine/session.js';
import { lpipsDistance, lpipsFeatures, readLpipsWeights } from '../src/perceptual/lpips.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';

const SET = 'lpips-tiny-a';

test('LPIPS-VGG16 v0.1: values within 1e-4, gradients within 1e-3 of PerceptualSimilarity', async () => {
  const w = await readLpipsWeights(`${GOLDENS}${SET}/vgg16.pth`, `${GOLDENS}${SET}/lpips_vgg.pth`);
  const in0 = await golden(SET, 'in0.npy');
  const in1 = await golden(SET, 'in1.npy');
  const g = new Graph('lpips_test');
  const x0 = g.input('in0', in0.shape);
  const x1 = g.input('in1', in1.shape);
  const d = lpipsDistance(g, w, lpipsFeatures(g, w, x0), lpipsFeatures(g, w, x1));
  g.output('d', d);
  g.output('dd_din0', grad(sumAll(d), [x0])[0]!);
  const session = await Session.fromGraph(g);
  try {
    const r = await session.run({ in0, in1 });
    assertClose(r.d!.data, await golden(SET, 'd.npy'), 1e-4, 'd');
    assertClose(r.dd_din0!, await golden(SET, 'dd_din0.npy'), 1e-3, 'dd/din0');
  } finally {
    await session.release();
  }
});
