/** The training progress sinks: a redrawn bar (loss, rate, ETA) for terminals, JSON lines for scripts. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { it } from 'node:test';
import { adamInit } from '../src/train/adam.js';
import type { StepReport } from '../src/train/loop.js';
import { barProgress, jsonProgress } from '../src/cli/progress.js';
import { liveProgress } from '../src/notebook/live-progress.js';

const report = (step: number): StepReport => ({
  step, iterations: 300, loss: 0.8125, terms: { direction: 0.8125 }, vector: new Float32Array(4), optimizer: adamInit(4), seconds: 2,
});

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

it('the bar redraws one line with step, loss, rate and ETA', () => {
  const { stream, text } = capture();
  const bar = barProgress(stream as unknown as NodeJS.WriteStream);
  bar.step(report(1));
  bar.step(report(2));
  bar.end();
  const frames = text().split('\r').filter(Boolean);
  assert.equal(frames.length, 2);
  assert.match(frames[1]!, /\] 2\/300 {2}loss 0\.8125 {2}2\.0 s\/step {2}ETA 9m56s/);
  assert.ok(text().endsWith('\n'));
});

it('--json prints one parseable object per step with rate and ETA', () => {
  const { stream, text } = capture();
  const sink = jsonProgress(stream);
  sink.step(report(10));
  sink.message('saved');
  const [step, message] = text().trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(step, { event: 'step', step: 10, iterations: 300, loss: 0.8125, terms: { direction: 0.8125 }, steps_per_second: 0.5, eta_seconds: 580 });
  assert.deepEqual(message, { event: 'message', message: 'saved' });
});

it('a notebook display shows the same line, replaced at each step, with messages logged below', () => {
  const shown: string[] = [];
  const logged: string[] = [];
  const live = liveProgress({ text: (t) => shown.push(t) }, (t) => logged.push(t));
  live.onStep(report(1));
  live.onStep({ ...report(150), seconds: 0.5 });
  live.onMessage('saved pixar.dv.safetensors');
  assert.equal(shown.length, 2);
  // 150 of 300 steps fills half the bar; the rate is over the recent steps (2 s and 0.5 s: 1.25 s/step, 150 left → 187.5 s).
  assert.equal(shown[1], `[${'='.repeat(12)}${' '.repeat(12)}] 150/300  loss 0.8125  1.3 s/step  ETA 3m08s`);
  assert.deepEqual(logged, ['saved pixar.dv.safetensors']);
});
