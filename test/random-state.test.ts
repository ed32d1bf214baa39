/** RandomState reproduces NumPy's legacy generator bit for bit, so seeds mean what they mean in Python. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { zFromSeeds } from '../src/generators/latents.js';
import { RandomState } from '../src/core/random-state.js';

const reference = JSON.parse(readFileSync(new URL('./fixtures/numpy/random-state.json', import.meta.url), 'utf8')) as {
  cases: Array<{ seed: number; randn_1x512: number[] }>;
  stream_seed7: { randn3: number[]; random2: number[]; randn2001_every100: number[] };
};

it('zFromSeeds equals numpy.random.RandomState(seed).randn(1, 512) (as float32)', () => {
  const z = zFromSeeds(reference.cases.map((c) => c.seed), 512);
  reference.cases.forEach((c, i) => assert.deepEqual(z.data.subarray(i * 512, (i + 1) * 512), Float32Array.from(c.randn_1x512), `seed ${c.seed}`));
});

it('keeps the cached gaussian and the stream across refills exactly (float64)', () => {
  const rng = new RandomState(7);
  const gauss = (n: number) => Array.from({ length: n }, () => rng.gauss());
  assert.deepEqual(gauss(3), reference.stream_seed7.randn3);
  assert.deepEqual([rng.random(), rng.random()], reference.stream_seed7.random2);
  assert.deepEqual(gauss(2001).filter((_, i) => i % 100 === 0), reference.stream_seed7.randn2001_every100);
});

it('refuses seeds NumPy refuses', () => {
  assert.throws(() => new RandomState(-1), /seed must be an integer in \[0, 2\^32 − 1\]/);
  assert.throws(() => new RandomState(2 ** 32), /seed/);
  assert.throws(() => new RandomState(1.5), /seed/);
});
