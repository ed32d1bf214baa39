/** gen_video.py's interpolation: scipy interp1d(kind='cubic') over the looped keyframes, against scipy's numbers. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { CubicSpline, loopedKeyframeWeights } from '../src/video/spline.js';

const fixture = JSON.parse(await readFile(new URL('./fixtures/video/interp1d-cubic.json', import.meta.url), 'utf8')) as {
  keyframes: number[][]; wraps: number; w_frames: number; frames: number[][];
};

it('matches scipy interp1d cubic over the looped keyframes, frame for frame', () => {
  const k = fixture.keyframes.length;
  const weights = loopedKeyframeWeights(k, fixture.wraps);
  assert.equal(fixture.frames.length, k * fixture.w_frames);
  fixture.frames.forEach((expected, f) => {
    const w = weights(f / fixture.w_frames);
    expected.forEach((e, d) => {
      const got = fixture.keyframes.reduce((s, row, j) => s + w[j]! * row[d]!, 0);
      assert.ok(Math.abs(got - e) < 1e-12, `frame ${f}, dim ${d}: ${got} vs scipy ${e}`);
    });
  });
});

it('passes through every knot and reproduces cubics exactly (not-a-knot)', () => {
  const s = new CubicSpline(7);
  for (let j = 0; j < 7; j++) assert.deepEqual(Array.from(s.weights(j), (x) => Math.round(x * 1e12) / 1e12), Array.from({ length: 7 }, (_, k) => (k === j ? 1 : 0)));
  const cubic = (x: number) => 0.3 * x ** 3 - x ** 2 + 2 * x - 1;
  const ys = Array.from({ length: 7 }, (_, j) => cubic(j));
  for (const t of [0.25, 1.5, 3.7, 5.99]) {
    const got = s.weights(t).reduce((acc, w, j) => acc + w * ys[j]!, 0);
    assert.ok(Math.abs(got - cubic(t)) < 1e-9, `t ${t}: ${got} vs ${cubic(t)}`);
  }
  assert.throws(() => new CubicSpline(3), /at least 4 knots/);
});
