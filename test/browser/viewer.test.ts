/**
 * The web viewer in a real browser (Debian's chromium, headless, driven by playwright-core): served by
 * `ganvec serve-web`, it loads a domain file through its file picker, generates a seed, and its canvas
 * pixels equal the PNG of `ganvec generate` for the same inputs (mean |Δ| under 2/255). Run by
 * `npm run test:browser` (.ci/browser installs chromium and builds the page first).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { baseModelMetadata, writeDomainFile } from '../../src/domains/domain-file.js';
import { loadGenerator } from '../../src/registry/load.js';
import { golden, GOLDENS } from '../helpers/golden.js';
import { REPO, runCli } from '../helpers/cli.js';

const SG2 = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const CHROMIUM = process.env.GANVEC_CHROMIUM ?? '/usr/bin/chromium';
/** Mean |Δ| over RGB bytes: 2/255 of the range. */
const MAX_MEAN_DIFF = 2;

let dir: string;
let domainFile: string;
let server: ChildProcess;
let url: string;
let browser: Browser;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-browser-'));
  const G = await loadGenerator(SG2);
  domainFile = join(dir, 'tiny.dv.safetensors');
  await writeDomainFile(domainFile, {
    vector: (await golden('sg2-tiny-a', 'domain.npy')).data, layers: G.domainLayers,
    metadata: { ...baseModelMetadata(G), prompt: 'x', losses: '{}', iterations: '1', clip_models: 'ViT-B/32', seed: '0' },
  });
  server = spawn(process.execPath, ['--import', 'tsx', `${REPO}src/cli/main.ts`, 'serve-web', '--model', SG2, '--port', '0'], {
    cwd: REPO, env: { ...process.env, GANVEC_OFFLINE: '1' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const found = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (found) resolve(found[1]!);
    });
    server.once('exit', (code) => reject(new Error(`serve-web exited with ${code}: ${out}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

async function referencePixels(args: string[]): Promise<Buffer> {
  const out = join(dir, `ref-${Math.random().toString(36).slice(2)}`);
  const r = await runCli(['generate', '--model', SG2, ...args, '--outdir', out]);
  assert.equal(r.code, 0, r.stderr);
  const seed = args[args.indexOf('--seeds') + 1]!;
  return sharp(join(out, `seed${seed.padStart(4, '0')}.png`)).raw().toBuffer();
}

/** The canvas as RGB bytes, after the page has rendered `generations` images. */
async function canvasPixels(page: Page, generations: number): Promise<{ rgb: Buffer; width: number; ms: number; backend: string }> {
  await page.waitForFunction((n) => (window as unknown as { ganvec: { generations: number; error?: string } }).ganvec.generations >= n
    || Boolean((window as unknown as { ganvec: { error?: string } }).ganvec.error), generations, { timeout: 60_000 });
  const got = await page.evaluate(() => {
    const state = (window as unknown as { ganvec: { error?: string; last?: { ms: number }; backend?: string } }).ganvec;
    const canvas = document.getElementById('output') as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return { error: state.error, ms: state.last?.ms ?? NaN, backend: state.backend ?? '', width: canvas.width, rgba: Array.from(data) };
  });
  assert.equal(got.error, undefined, `the page reported: ${got.error}`);
  const rgb = Buffer.alloc((got.rgba.length / 4) * 3);
  for (let p = 0; p < got.rgba.length / 4; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = got.rgba[p * 4 + c]!;
  return { rgb, width: got.width, ms: got.ms, backend: got.backend };
}

function meanAbsDiff(a: Buffer, b: Buffer): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('the web viewer in chromium', () => {
  test('a domain file from the picker, seed 3, ψ 0.7, strength 0.5: the canvas equals ganvec generate', { timeout: 120_000 }, async (t) => {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') t.diagnostic(`page: ${m.text()}`); });
    await page.goto(url);
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'COOP/COEP make the page cross-origin isolated');

    const plain = await canvasPixels(page, 1); // the page generates seed 0 at start
    assert.equal(plain.width, 32);
    assert.ok(meanAbsDiff(plain.rgb, await referencePixels(['--seeds', '0'])) < MAX_MEAN_DIFF, 'seed 0, no domain');

    await page.setInputFiles('#domain-files', domainFile);
    await canvasPixels(page, 2);
    await page.fill('#seed', '3');
    await page.$eval('#truncation', (el) => { (el as HTMLInputElement).value = '0.7'; el.dispatchEvent(new Event('change')); });
    await canvasPixels(page, 3);
    await page.$eval('.strength', (el) => { (el as HTMLInputElement).value = '0.5'; el.dispatchEvent(new Event('input')); });
    const shown = await canvasPixels(page, 4);
    const expected = await referencePixels(['--seeds', '3', '--truncation', '0.7', '--domain', `${domainFile}:0.5`]);
    const diff = meanAbsDiff(shown.rgb, expected);
    t.diagnostic(`mean |Δ| ${diff.toFixed(4)} / 255 on ${shown.backend}; generation ${shown.ms.toFixed(1)} ms`);
    assert.ok(diff < MAX_MEAN_DIFF, `mean |Δ| ${diff}`);
    const other = await referencePixels(['--seeds', '3', '--truncation', '0.7', '--domain', domainFile]);
    assert.ok(meanAbsDiff(shown.rgb, other) > MAX_MEAN_DIFF, 'strength 1 looks different, so the comparison can fail');

    const download = page.waitForEvent('download');
    await page.click('#download');
    assert.equal((await download).suggestedFilename(), 'seed0003.png');
    await page.close();
  });
});
