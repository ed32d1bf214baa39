/**
 * NVIDIA's TensorFlow-era pickles (the Progressive GAN's karras2018iclr-*.pkl, StyleGAN and StyleGAN2) are
 * recognised and refused with what they are and what to use instead, from the API and in one CLI line.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { runCli } from './helpers/cli.js';

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/io/${name}`, import.meta.url));

const CASES = [
  ['karras2018iclr-tiny.pkl', /this is a TensorFlow-era Progressive GAN pickle \(NVIDIA's tfutil\.Network, as karras2018iclr-\*\.pkl are\).*use one of its PGAN checkpoints \(`ganvec models list`: pgan-celebahq-256/],
  ['stylegan-tf-tiny.pkl', /this is a TensorFlow-era StyleGAN pickle \(the first StyleGAN's dnnlib\.tflib networks, version 3\).*legacy\.py converts only StyleGAN2's/],
  ['stylegan2-tf-tiny.pkl', /this is a TensorFlow-era StyleGAN pickle \(StyleGAN2's dnnlib\.tflib networks\).*legacy\.py from NVlabs\/stylegan2-ada-pytorch \(`python legacy\.py --source=IN\.pkl --dest=OUT\.pkl`\)/],
] as const;

describe('TensorFlow-era NVIDIA pickles', { concurrency: true }, () => {
  for (const [file, message] of CASES) {
    it(`refuses ${file}, saying what it is`, async () => {
      await assert.rejects(readCheckpoint(fixture(file)), (err: Error) => {
        assert.match(err.message, new RegExp(`^${fixture(file).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
        assert.match(err.message, message);
        return true;
      });
    });
  }
  it('in one line from `ganvec generate` and `ganvec info`', async () => {
    for (const args of [['generate', '--model', fixture('karras2018iclr-tiny.pkl'), '--seeds', '0'], ['info', fixture('stylegan2-tf-tiny.pkl')]]) {
      const r = await runCli(args);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /this is a TensorFlow-era (Progressive GAN|StyleGAN) pickle/);
    }
  });
});
