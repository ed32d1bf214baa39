/**
 * Text-driven adaptation end to end on the tiny fixtures: `ganvec adapt --to` lowers the direction loss,
 * the vector moves held-out samples along the text direction, runs are deterministic and resumable,
 * Ctrl-C keeps the work, and bad input fails with one clear line.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readNpy } from '../src/io/npy.js';
import { readDomainFile } from '../src/domains/domain-file.js';
import { type Clip } from '../src/clip/clip.js';
import { loadClip, loadGenerator } from '../src/registry/load.js';
import type { Generator } from '../src/generators/generator.js';
import { zFromSeeds } from '../src/generators/latents.js';
import { textDirection } from '../src/train/text-direction.js';
import { RandomState } from '../src/core/random-state.js';
import { runCli } from './helpers/cli.js';
import { GOLDENS } from './helpers/golden.js';

const GENERATOR = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const CLIP = `${GOLDENS}clip-tiny-a/clip_state_dict.pt`;

const adaptArgs = (out: string, ...extra: string[]) => [
  'adapt', '--from', GENERATOR, '--clip', CLIP, '--to', 'pixar', '--out', out, '--json', ...extra,
];

interface StepLine { event: string; step: number; loss: number; terms: { direction: number } }
const steps = (stdout: string): StepLine[] =>
  stdout.trim().split('\n').map((l) => JSON.parse(l) as StepLine).filter((l) => l.event === 'step');

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-adapt-'));
});

describe('ganvec adapt --to', () => {
  let first: { stdout: string; vector: Float32Array };

  before(async () => {
    const out = join(dir, 'pixar.dv.safetensors');
    const r = await runCli(adaptArgs(out, '--iters', '40'));
    assert.equal(r.code, 0, r.stderr);
    first = { stdout: r.stdout, vector: (await readDomainFile(out)).vector };
  });

  it('lowers the direction loss over 40 steps', () => {
    const s = steps(first.stdout);
    assert.equal(s.length, 40);
    const lastTen = s.slice(-10).reduce((a, l) => a + l.terms.direction, 0) / 10;
    assert.ok(lastTen < s[0]!.terms.direction, `last-10 mean ${lastTen} not below first ${s[0]!.terms.direction}`);
  });

  it('records what it was trained on in the domain file', async () => {
    const { metadata, layers } = await readDomainFile(join(dir, 'pixar.dv.safetensors'));
    assert.equal(metadata.prompt, 'pixar');
    assert.equal(metadata.iterations, '40');
    assert.equal(layers.reduce((n, l) => n + l.dim, 0), 192);
    assert.match(metadata.base_fingerprint!, /^[0-9a-f]{16}$/);
  });

  describe('on held-out latents', () => {
    let G: Generator;
    let clip: Clip;
    before(async () => {
      G = await loadGenerator(GENERATOR, { batch: 8 });
      clip = await loadClip(CLIP);
    });
    after(async () => {
      await G.release();
      await clip.release();
    });

    it('moves samples along the text direction more than random vectors of the same norm', async () => {
      const direction = await textDirection(clip, 'pixar', 'photo');
      const z = zFromSeeds(Array.from({ length: 16 }, (_, i) => 1000 + i), G.styleDim);
      const unit = (row: Float32Array) => row.map((x) => x / Math.hypot(...row));
      const embed = async (domain?: Float32Array) => {
        const e = await clip.encodeGeneratorImage(await G.generate({ z, domain }));
        const d = e.shape[1]!;
        return Array.from({ length: 16 }, (_, i) => unit(e.data.slice(i * d, (i + 1) * d)));
      };
      const frozen = await embed();
      const alignment = async (domain: Float32Array) => {
        const adapted = await embed(domain);
        let sum = 0;
        adapted.forEach((b, i) => {
          const edit = unit(b.map((x, j) => x - frozen[i]![j]!));
          sum += edit.reduce((a, x, j) => a + x * direction[j]!, 0);
        });
        return sum / 16;
      };
      const trained = await alignment(first.vector);
      const norm = Math.hypot(...first.vector);
      for (let seed = 0; seed < 3; seed++) {
        const r = new RandomState(seed).randn(first.vector.length);
        const rn = Math.hypot(...r);
        const random = await alignment(r.map((x) => (x * norm) / rn));
        assert.ok(trained > random, `trained alignment ${trained} not above random ${random}`);
      }
    });
  });

  it('is deterministic for a fixed seed', async () => {
    const out = join(dir, 'again.dv.safetensors');
    const r = await runCli(adaptArgs(out, '--iters', '40'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readDomainFile(out)).vector, first.vector);
  });

  it('changes the images when applied with generate --domain', async () => {
    const plain = join(dir, 'plain.npy');
    const adapted = join(dir, 'adapted.npy');
    const common = ['generate', '--model', GENERATOR, '--seeds', '0-3', '--noise', 'const'];
    assert.equal((await runCli([...common, '--npy', plain])).code, 0);
    const r = await runCli([...common, '--domain', join(dir, 'pixar.dv.safetensors'), '--npy', adapted]);
    assert.equal(r.code, 0, r.stderr);
    const a = (await readNpy(plain)).data as Float32Array;
    const b = (await readNpy(adapted)).data as Float32Array;
    const meanAbs = a.reduce((s, x, i) => s + Math.abs(x - b[i]!), 0) / a.length;
    assert.ok(meanAbs > 1e-3, `images barely changed (mean |Δ| ${meanAbs})`);
  });

  it('resumes to exactly the vector of an uninterrupted run', async () => {
    const out = join(dir, 'resumed.dv.safetensors');
    assert.equal((await runCli(adaptArgs(out, '--iters', '25'))).code, 0);
    const r = await runCli(adaptArgs(out, '--iters', '40', '--resume'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(steps(r.stdout)[0]!.step, 26);
    assert.deepEqual((await readDomainFile(out)).vector, first.vector);
  });

  it('refuses to resume with different settings', async () => {
    const r = await runCli(adaptArgs(join(dir, 'resumed.dv.safetensors'), '--iters', '50', '--resume', '--lr', '0.05'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /different lr/);
  });

  it('saves the latest vector on SIGINT and can continue from it', async () => {
    const out = join(dir, 'interrupted.dv.safetensors');
    let sent = false;
    const r = await runCli(adaptArgs(out, '--iters', '100000'), {
      onStdout: (chunk, child) => {
        if (!sent && chunk.includes('"event":"step"')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    assert.equal(r.code, 130, r.stderr);
    const saved = await readDomainFile(out);
    const done = Number(saved.metadata.iterations);
    assert.ok(done >= 1 && done < 100000, `saved after ${done} steps`);
    assert.ok(saved.vector.some((x) => x !== 0));
  });
});

describe('ganvec adapt: interrupted saves and concurrent runs', () => {
  /** A pid no process has here (above Linux's pid_max default, still a valid pid). */
  const DEAD_PID = 4_100_000;

  it('resumes exactly when a kill fell between the run-state and domain-file writes', async () => {
    const out = join(dir, 'torn.dv.safetensors');
    const whole = join(dir, 'whole.dv.safetensors');
    const [a, b] = await Promise.all([runCli(adaptArgs(out, '--iters', '12')), runCli(adaptArgs(whole, '--iters', '20'))]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const older = await readFile(out);
    assert.equal((await runCli(adaptArgs(out, '--iters', '13', '--resume'))).code, 0);
    // The domain file one step behind its run state: what a kill after the first write leaves.
    await writeFile(out, older);
    const r = await runCli(adaptArgs(out, '--iters', '20', '--resume'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /resuming at step 13 of 20 from the run state \(the domain file, at step 12/);
    assert.deepEqual((await readDomainFile(out)).vector, (await readDomainFile(whole)).vector);
  });

  it('refuses a second run on the same --out while the first holds the lock', async () => {
    const out = join(dir, 'locked.dv.safetensors');
    await writeFile(`${out}.lock`, JSON.stringify({ pid: process.pid }));
    const r = await runCli(adaptArgs(out, '--iters', '2'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`being trained by process ${process.pid}`));
    assert.equal(existsSync(out), false);
  });

  it('takes over the lock of a process that is gone, removes leftover temporaries, and releases the lock', async () => {
    const out = join(dir, 'stale.dv.safetensors');
    await writeFile(`${out}.lock`, JSON.stringify({ pid: DEAD_PID }));
    const leftover = join(dir, `.stale.dv.safetensors.${DEAD_PID}.0123456789ab.tmp`);
    const mine = join(dir, `.stale.state.safetensors.${process.pid}.0123456789ab.tmp`);
    await writeFile(leftover, 'partial');
    await writeFile(mine, 'in use by a live process');
    const r = await runCli(adaptArgs(out, '--iters', '2'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`took over the lock of process ${DEAD_PID}`));
    assert.equal(existsSync(leftover), false, 'a dead process\'s temporary file is removed');
    assert.equal(existsSync(mine), true, 'a live process\'s temporary file is kept');
    assert.equal(existsSync(`${out}.lock`), false, 'the lock is released');
  });

  it('a second SIGINT exits 130 at once and leaves a domain file and run state that resume', async () => {
    const out = join(dir, 'twice.dv.safetensors');
    let sent = 0;
    const r = await runCli(adaptArgs(out, '--iters', '100000', '--save-every', '1'), {
      onStdout: (chunk, child) => {
        // The second signal once the first is acknowledged: two sent at once can arrive as one.
        if (sent === 0 && chunk.includes('"event":"step"')) child.kill('SIGINT'), sent++;
        else if (sent === 1 && chunk.includes('stopping after this step')) child.kill('SIGINT'), sent++;
      },
    });
    assert.equal(sent, 2);
    assert.equal(r.code, 130, r.stderr);
    assert.equal(existsSync(`${out}.lock`), false, 'the lock is released');
    const saved = await readDomainFile(out);
    assert.ok(Number(saved.metadata.iterations) >= 1);
    const resumed = await runCli(adaptArgs(out, '--iters', String(Number(saved.metadata.iterations) + 1), '--resume'));
    assert.equal(resumed.code, 0, resumed.stderr);
  });
});

describe('ganvec adapt: bad input', () => {
  const fails = async (args: string[], pattern: RegExp) => {
    const r = await runCli(args);
    assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line expected:\n${r.stderr}`);
  };
  const out = () => join(dir, 'bad.dv.safetensors');

  it('a missing --clip file', () =>
    fails(['adapt', '--from', GENERATOR, '--clip', join(dir, 'nope.pt'), '--to', 'x', '--out', out()], /nope\.pt/));
  it('a --clip file that is not CLIP', () =>
    fails(['adapt', '--from', GENERATOR, '--clip', GENERATOR, '--to', 'x', '--out', out()], /CLIP/));
  it('an empty --to', () =>
    fails(['adapt', '--from', GENERATOR, '--clip', CLIP, '--to', '  ', '--out', out()], /--to needs a non-empty/));
  it('--iters 0', () =>
    fails(['adapt', '--from', GENERATOR, '--clip', CLIP, '--to', 'x', '--iters', '0', '--out', out()], /^ganvec: --iters: must be at least 1, got 0$/m));
  it('an unwritable --out', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await fails(['adapt', '--from', GENERATOR, '--clip', CLIP, '--to', 'x', '--out', join(file, 'd.dv.safetensors')], /cannot write the domain file/);
  });

  it('a non-finite loss stops with a clear message and keeps the last finite vector', async () => {
    const file = join(dir, 'nan.dv.safetensors');
    const r = await runCli(['adapt', '--from', GENERATOR, '--clip', CLIP, '--to', 'x', '--iters', '20', '--lr', '1e38', '--out', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the loss became NaN at step \d+; kept the vector from step \d+.*lower --lr/);
    const saved = await readDomainFile(file);
    assert.ok(saved.vector.every(Number.isFinite));
    assert.ok(Number(saved.metadata.iterations) < 20);
  });
});
