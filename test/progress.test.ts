/** The training progress sinks: a redrawn bar (loss, rate, ETA) for terminals, JSON lines for scripts. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { it } from 'node:test';
import { adamInit } from '../src/train/adam.js';
import type { StepReport } from '../src/train/loop.js';
import { barProgress, jsonProgress } from '../src/cli/progress.js';

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
