/**
 * The web viewer's generation time in headless chromium (onnxruntime-web, whatever backend the page
 * picks: wasm threads on a machine without a GPU): the page's own timing of session.run for one image,
 * median of a few seeds after the first. Needs `npm run build:web` and /usr/bin/chromium (.ci/browser).
 */
import { chromium } from 'playwright-core';
import { Generator } from '../src/generators/generator.js';
import { fromRosinality } from '../src/generators/stylegan2/rosinality.js';
import { randomRosinalityStateDict } from '../src/generators/stylegan2/random-weights.js';
import { stylegan2 } from '../src/generators/stylegan2/family.js';
import { loadGenerator } from '../src/registry/load.js';
import { serveViewer } from '../src/web/serve.js';
import type { BenchRow } from './measure.js';

const RUNS = 3;

export async function benchWebViewer(model: 'tiny' | 256): Promise<BenchRow[]> {
  const G = model === 'tiny'
    ? await loadGenerator(new URL('../test/fixtures/goldens/sg2-tiny-a/ckpt.pt', import.meta.url).pathname)
    : new Generator(stylegan2, fromRosinality(randomRosinalityStateDict({ size: model })), { format: 'random', path: 'config-f-256-random', fingerprint: '-' });
  const server = await serveViewer(G, { port: 0 });
  const browser = await chromium.launch({ executablePath: process.env.GANVEC_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    const times: number[] = [];
    let backend = '';
    for (let i = 0; i <= RUNS; i++) {
      if (i > 0) await page.fill('#seed', String(i)).then(() => page.$eval('#seed', (el) => el.dispatchEvent(new Event('change'))));
      await page.waitForFunction((n) => {
        const s = (window as unknown as { ganvec: { generations: number; error?: string } }).ganvec;
        if (s.error) throw new Error(s.error);
        return s.generations > n;
      }, i, { timeout: 600_000, polling: 50 });
      const last = await page.evaluate(() => (window as unknown as { ganvec: { last: { ms: number }; backend: string } }).ganvec);
      backend = last.backend;
      if (i > 0) times.push(last.last.ms / 1000);
    }
    times.sort((a, b) => a - b);
    const label = model === 'tiny' ? 'tiny fixture (32px)' : `${model}px config-f random weights`;
    return [{ name: `web viewer ${label}, ${backend}`, value: times[Math.floor(times.length / 2)]!, unit: 's/image' }];
  } finally {
    await browser.close();
    await server.close();
    await G.release();
  }
}
