/**
 * The `ganvec` executable (dist/cli/launch.js) runs `adapt` in a child with malloc set to reuse memory,
 * passes its output, exit code and signals through, and leaves other commands and a user's own malloc
 * settings alone; a StyleGAN3 `adapt` runs again with jemalloc where it is installed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import {
  MALLOC_REUSE_MARK, installedJemalloc, layerByLayerEnvironment, reuseMallocEnvironment, runsOnGlibc,
} from '../src/cli/malloc-environment.js';
import { readDomainFile } from '../src/index.js';
import { REPO } from './helpers/cli.js';

const LAUNCHER = join(REPO, 'dist/cli/launch.js');
const GENERATOR = join(REPO, 'test/fixtures/goldens/sg2-tiny-a/ckpt.pt');
const STYLEGAN3 = join(REPO, 'test/fixtures/goldens/sg3t-tiny-a/network-snapshot.pkl');
const CLIP = join(REPO, 'test/fixtures/goldens/clip-tiny-a/clip_state_dict.pt');

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), 'ganvec-launch-'))));
after(async () => rm(dir, { recursive: true, force: true }));

it('sets malloc to reuse memory for adapt on glibc, unless the user set it', () => {
  assert.deepEqual(
    { ...reuseMallocEnvironment({ PATH: '/bin' }, true, 'adapt') },
    { PATH: '/bin', MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(2 ** 46), [MALLOC_REUSE_MARK]: '1' },
  );
  assert.equal(reuseMallocEnvironment({ MALLOC_MMAP_MAX_: '65536' }, true, 'adapt'), undefined);
  assert.equal(reuseMallocEnvironment({ MALLOC_TRIM_THRESHOLD_: '131072' }, true, 'adapt'), undefined);
  assert.equal(reuseMallocEnvironment({}, false, 'adapt'), undefined);
  for (const command of ['generate', 'video', undefined]) assert.equal(reuseMallocEnvironment({}, true, command), undefined, String(command));
});

function withoutMallocSettings(): NodeJS.ProcessEnv {
  const { MALLOC_MMAP_MAX_: _m, MALLOC_TRIM_THRESHOLD_: _t, ...env } = process.env;
  return { ...env, GANVEC_OFFLINE: '1' };
}

/** The launcher's child processes (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
    readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

/**
 * Launches a long `adapt` of `generator`, calls `atStep(launcher pid)` when the first step is reported,
 * interrupts it there, and checks that it exits 130 having saved its steps.
 */
async function interruptedAdapt(generator: string, atStep: (pid: number) => void): Promise<void> {
  const out = join(dir, `${Math.random().toString(36).slice(2)}.dv.safetensors`);
  const launcher = spawn(process.execPath, [LAUNCHER, 'adapt', '--from', generator, '--clip', CLIP, '--to', 'pixar', '--out', out, '--json', '--iters', '100000'], {
    env: withoutMallocSettings(), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  launcher.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  let stepped = false;
  launcher.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (stepped || !chunk.includes('"event":"step"')) return;
    stepped = true;
    atStep(launcher.pid!);
    launcher.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => launcher.on('close', resolve));
  assert.equal(code, 130, stderr);
  assert.ok(Number((await readDomainFile(out)).metadata.iterations) >= 1, 'the interrupted run saved its steps');
}

it('runs adapt in a child with that malloc; a SIGINT to it saves the last step and exits 130', { skip: !runsOnGlibc() && 'needs glibc' }, async () => {
  let environ = '';
  await interruptedAdapt(GENERATOR, (pid) => (environ = readFileSync(`/proc/${childrenOf(pid)[0]}/environ`, 'utf8')));
  assert.ok(environ.split('\0').includes('MALLOC_MMAP_MAX_=0'), 'the CLI ran with malloc reusing memory');
});

it('preloads jemalloc for a layer-by-layer adapt, keeping a user\'s own preloads and jemalloc settings', () => {
  const jemalloc = '/usr/lib/libjemalloc.so.2';
  const env = layerByLayerEnvironment({ PATH: '/bin' }, jemalloc)!;
  assert.deepEqual(Object.keys(env).sort(), ['LD_PRELOAD', 'MALLOC_CONF', 'PATH']);
  assert.equal(env.LD_PRELOAD, jemalloc);
  assert.equal(layerByLayerEnvironment({ LD_PRELOAD: '/opt/libx.so' }, jemalloc)!.LD_PRELOAD, `${jemalloc}:/opt/libx.so`);
  assert.equal(layerByLayerEnvironment({ MALLOC_CONF: 'narenas:1' }, jemalloc)!.MALLOC_CONF, 'narenas:1');
  assert.equal(layerByLayerEnvironment({ PATH: '/bin' }, undefined), undefined);
});

// CI installs Debian's libjemalloc2 (.ci/run); without it the launcher trains in its own process.
const jemalloc = installedJemalloc();
it(`runs a StyleGAN3 adapt again ${jemalloc ? 'in a child with jemalloc' : "in its own process, with glibc's malloc defaults"}`, { skip: !runsOnGlibc() && 'needs glibc' }, async () => {
  let running: { children: number[]; environ: string; maps: string } | undefined;
  await interruptedAdapt(STYLEGAN3, (pid) => {
    const children = childrenOf(pid);
    const trainer = jemalloc ? children[0]! : pid;
    running = { children, environ: readFileSync(`/proc/${trainer}/environ`, 'utf8'), maps: readFileSync(`/proc/${trainer}/maps`, 'utf8') };
  });
  const environ = running!.environ.split('\0');
  assert.equal(running!.children.length, jemalloc ? 1 : 0, 'one process trains, once the malloc-reuse child has stepped aside');
  assert.ok(!environ.includes('MALLOC_MMAP_MAX_=0') && !environ.some((v) => v.startsWith(`${MALLOC_REUSE_MARK}=`)));
  if (jemalloc) assert.ok(running!.maps.includes(realpathSync(jemalloc)), 'jemalloc is loaded in the training process');
});

it('passes the exit code and output of a usage error through', async () => {
  const child = spawn(process.execPath, [LAUNCHER, 'generate', '--seeds', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.notEqual(code, 0);
  assert.match(stderr, /ganvec: .*--seeds/);
});
