/**
 * `project --encoder` and `stylize --encoder` end to end on the fixtures: the tiny e4e of goldens/e4e-tiny-a
 * (8 rows of width 32) with the StyleGAN3-R generator of goldens/sg3r-tiny-a (W+ [8, 32], 32 px). The W+
 * that `project` writes is e4e's own output for the golden's input image; `generate --w` reads it back.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { readWFile } from '../src/generators/w-file.js';
import { readNpy } from '../src/io/npy.js';
import { astronautPhoto } from './helpers/astronaut.js';
import { runCli, runCliOk } from './helpers/cli.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';

const E4E = `${GOLDENS}e4e-tiny-a/`;
const SG3R = `${GOLDENS}sg3r-tiny-a/network-snapshot.pkl`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-e4e-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('project --encoder writes e4e\'s W+ as projected_w.npz / .npy, and generate --w draws it as proj.png', async () => {
  const out = join(dir, 'proj');
  const r = await runCliOk(['project', `${E4E}input.png`, '--model', SG3R, '--encoder', `${E4E}e4e.pt`, '--outdir', out, '--threads', '1']);
  assert.match(r.stdout, /projected_w\.npz and projected_w\.npy \(W\+ \[1, 8, 32\]\), proj\.png, target\.png; one e4e forward pass/);
  assert.doesNotMatch(r.stderr, /step/);
  const npz = await readWFile(join(out, 'projected_w.npz'), 8, 32);
  assertClose(npz.rows, await golden('e4e-tiny-a', 'w.npy'), 1e-4, 'W+ from the PNG');
  assert.deepEqual((await readNpy(join(out, 'projected_w.npy'))).data, npz.rows.data);
  const again = join(dir, 'again');
  const g = await runCliOk(['generate', '--model', SG3R, '--w', join(out, 'projected_w.npz'), '--outdir', again]);
  assert.match(g.stderr + g.stdout, /W\+ \[1, 8, 32\]/);
  const pixels = async (p: string) => await sharp(p).raw().toBuffer();
  assert.deepEqual(await pixels(join(again, 'img0000.png')), await pixels(join(out, 'proj.png')));
});

test('project --encoder: a missing file, a generator checkpoint, a generator of another layout, a name of another kind', async () => {
  const project = (encoder: string, model = SG3R) => runCli(['project', `${E4E}input.png`, '--model', model, '--encoder', encoder, '--outdir', join(dir, 'bad')]);
  const oneLine = (r: { code: number | null; stderr: string }, pattern: RegExp) => {
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  };
  oneLine(await project('./missing-e4e.pt'), /^ganvec: no such file: \.\/missing-e4e\.pt\./);
  oneLine(await project(`${GOLDENS}sg2-tiny-a/ckpt.pt`), /^ganvec: .*sg2-tiny-a\/ckpt\.pt: not an encoder4editing checkpoint: no state_dict with encoder\.\* weights/);
  oneLine(
    await project(`${E4E}e4e.pt`, `${GOLDENS}sg2-tiny-a/ckpt.pt`),
    /^ganvec: the e4e encoder .*e4e\.pt gives W\+ \[8, 32\] for a 32 px generator; .*sg2-tiny-a\/ckpt\.pt is 32 px with W\+ \[8, 64\]: use the generator the encoder was trained with$/m,
  );
  oneLine(await project('ffhq'), /^ganvec: "ffhq" is a generator model \(stylegan2-ffhq-config-f\), but an encoder is needed here$/m);
});

test('--encoder e4e is the registered FFHQ e4e; offline, its error says where to get it', async () => {
  const r = await runCli(['project', `${E4E}input.png`, '--model', SG3R, '--encoder', 'e4e', '--outdir', join(dir, 'offline')], { env: { GANVEC_HOME: join(dir, 'home') } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the encoder "e4e" \(e4e-ffhq-encode\) is missing/);
  assert.match(r.stderr, /1cUv_reLE6k3604or78EranS7XzuVMWeO/);
  // The problem and each way to fix it on lines of their own, not joined by escaped newlines.
  assert.doesNotMatch(r.stderr, /\\x0a/);
  assert.match(r.stderr, /^To fix it, do one of:$/m);
  assert.match(r.stderr, /^ {2}- run `ganvec models download e4e`/m);
});

test('stylize --encoder: a real photo aligned, encoded by e4e, drawn with a domain', async () => {
  const out = join(dir, 'stylized.png');
  const env = { GANVEC_HOME: join(dir, 'stylize-home') };
  const args = ['stylize', astronautPhoto(), '--model', SG3R, '--encoder', `${E4E}e4e.pt`, '--domain', `${GOLDENS}sg3r-tiny-a/domain.npy`, '--out', out, '--threads', '1'];
  const first = await runCliOk(args, { env });
  assert.doesNotMatch(first.stderr, /step/);
  assert.match(first.stderr, /projection cached as /);
  const { info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [2 + 3 * (32 + 2), 32 + 4], 'photo, reconstruction and one domain of 32 px');
  const second = await runCliOk(args, { env });
  assert.match(second.stderr, /using the cached projection/);
});
