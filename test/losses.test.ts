/**
 * Each loss and the optimiser against independent numbers: HyperDomainNet's own `core/loss.py` on fixed
 * embeddings (hdn-losses-a: values and gradients) and torch.optim.Adam trajectories (fixtures/adam). A
 * direction loss that does not normalise the edit, an indomain loss without its square or over n², a
 * doubled offsets_l2 or an Adam without bias correction each fail here.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Graph, type Value } from '../src/engine/graph.js';
import { grad } from '../src/engine/grad.js';
import { Session } from '../src/engine/session.js';
import type { Tensor } from '../src/core/tensor.js';
import { directionLoss } from '../src/losses/direction.js';
import { indomainLoss } from '../src/losses/indomain.js';
import { offsetsL2Loss } from '../src/losses/offsets-l2.js';
import { adamInit, adamStep } from '../src/train/adam.js';
import { templateDirection } from '../src/train/text-direction.js';
import { unitVector } from '../src/train/unit-vectors.js';
import { unitRowsOf } from './helpers/unit-rows.js';
import { readNpy } from '../src/io/npy.js';
import { assertClose, golden } from './helpers/golden.js';

const SET = 'hdn-losses-a';

interface LossManifest { domain_dims: number[]; values: Record<'direction' | 'indomain' | 'offsets_l2', number> }

async function manifest(): Promise<LossManifest> {
  return JSON.parse(await readFile(fileURLToPath(new URL(`fixtures/goldens/${SET}/manifest.json`, import.meta.url)), 'utf8')) as LossManifest;
}

/** Runs `loss(inputs)` in ONNX Runtime; returns its value and its gradient with respect to `wrt`. */
async function valueAndGrad(
  inputs: Record<string, Tensor>, wrt: string, loss: (g: Graph, v: Record<string, Value>) => Value,
): Promise<{ value: number; gradient: Tensor }> {
  const g = new Graph('loss');
  const values = Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, g.input(name, t.shape)]));
  const l = loss(g, values);
  g.output('loss', l);
  g.output('grad', grad(l, [values[wrt]!])[0]!);
  const session = await Session.fromGraph(g);
  const out = await session.run(inputs);
  await session.release();
  return { value: out.loss!.data[0]!, gradient: out.grad! };
}

function assertValue(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-5 * Math.abs(expected), `${what}: ${actual} vs HyperDomainNet's ${expected}`);
}

describe("losses against HyperDomainNet's core/loss.py", () => {
  it('direction: mean of 1 − cos(adapted − frozen, mean over templates of target − source)', async () => {
    const [m, frozen, adapted, target, source, expected] = await Promise.all([
      manifest(), golden(SET, 'frozen.npy'), golden(SET, 'adapted.npy'), golden(SET, 'target_text.npy'),
      golden(SET, 'source_text.npy'), golden(SET, 'grad_direction.npy'),
    ]);
    const direction = unitVector(templateDirection(unitRowsOf(target), unitRowsOf(source)));
    const { value, gradient } = await valueAndGrad(
      { frozen, adapted, direction: { data: direction, shape: [direction.length] } }, 'adapted',
      (_, v) => directionLoss(v.frozen!, v.adapted!, v.direction!),
    );
    assertValue(value, m.values.direction, 'direction');
    assertClose(gradient, expected, 1e-4, 'd direction / d adapted');
  });

  it('direction: a zero edit (frozen = adapted, a noiseless generator at d = 0) has loss 1 and the gradient of the edit itself', async () => {
    const frozen = await golden(SET, 'frozen.npy');
    const direction = unitVector(Float32Array.from({ length: frozen.shape[1]! }, (_, i) => Math.sin(i + 1)));
    const n = frozen.shape[0]!;
    const { value, gradient } = await valueAndGrad(
      { frozen, adapted: frozen, direction: { data: direction, shape: [direction.length] } }, 'adapted',
      (_, v) => directionLoss(v.frozen!, v.adapted!, v.direction!),
    );
    assert.equal(value, 1);
    // d/d(adapted) of 1 − mean(edit · Δ): −Δ/N for every sample, not ‖edit‖⁻¹ times that.
    const expected = new Float32Array(frozen.data.length).map((_, i) => -direction[i % direction.length]! / n);
    assertClose(gradient, { data: expected, shape: frozen.shape }, 1e-6, 'd direction / d adapted at a zero edit');
  });

  it('indomain: squared differences of pairwise cosines over the n(n−1)/2 pairs', async () => {
    const [m, frozen, adapted, expected] = await Promise.all([
      manifest(), golden(SET, 'frozen.npy'), golden(SET, 'adapted.npy'), golden(SET, 'grad_indomain.npy'),
    ]);
    const { value, gradient } = await valueAndGrad({ frozen, adapted }, 'adapted', (_, v) => indomainLoss(v.frozen!, v.adapted!));
    assertValue(value, m.values.indomain, 'indomain');
    assertClose(gradient, expected, 1e-4, 'd indomain / d adapted');
  });

  it('offsets_l2: sum over layers of mean(d²)', async () => {
    const [m, domain, expected] = await Promise.all([manifest(), golden(SET, 'domain.npy'), golden(SET, 'grad_offsets_l2.npy')]);
    const { value, gradient } = await valueAndGrad({ domain }, 'domain', (_, v) => offsetsL2Loss(v.domain!, m.domain_dims));
    assertValue(value, m.values.offsets_l2, 'offsets_l2');
    assertClose(gradient, expected, 1e-4, 'd offsets_l2 / d domain');
  });
});

describe('Adam against torch.optim.Adam', () => {
  const fixture = (name: string) => readNpy(fileURLToPath(new URL(`fixtures/adam/${name}`, import.meta.url))).then((t) => t as Tensor);
  const settings = { hdn: { lr: 0.1, betas: [0.9, 0.999] as [number, number] }, other: { lr: 0.03, betas: [0.5, 0.8] as [number, number] } };

  for (const [name, config] of Object.entries(settings)) {
    it(`follows torch's parameters after each of 8 steps (lr ${config.lr}, betas ${config.betas.join(', ')})`, async () => {
      const [init, grads, expected] = await Promise.all([fixture('init.npy'), fixture('grads.npy'), fixture(`params_${name}.npy`)]);
      const n = init.data.length;
      const params = Float32Array.from(init.data);
      const state = adamInit(n);
      for (let t = 0; t < grads.shape[0]!; t++) {
        adamStep(params, grads.data.subarray(t * n, (t + 1) * n), state, config);
        assertClose(params, { data: expected.data.subarray(t * n, (t + 1) * n), shape: [n] }, 1e-6, `step ${t + 1}`);
      }
      assert.equal(state.step, grads.shape[0]);
    });
  }
});
