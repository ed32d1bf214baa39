/**
 * `npm run bench [case…]`: runs each case in a child process, prints seconds and peak RSS against the
 * PyTorch reference and the roofline, and writes bench/RESULTS.md (when every case runs).
 *
 * `npm run bench -- --baseline <git-ref> [case…]`: also checks out <git-ref> in a temporary worktree (with
 * this tree's node_modules) and runs each case there and here, one after the other, so both builds see the
 * same machine at nearly the same time; reports new/old. This is how a change is measured on a noisy
 * shared machine. Cases the baseline does not have are run here only.
 *
 * Each case runs as that tree's `ganvec` executable runs the command (adaptation with its malloc
 * settings, cli/launch.ts); set MALLOC_MMAP_MAX_ to measure without them.
 *
 * `npm run bench -- --profile <case…>`: runs the cases with ONNX Runtime's profiler on and prints where the
 * kernel time goes (bench/profile.ts); the timings themselves are slowed by the profiler and not reported.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { CASES, type BenchCase } from './cases.js';
import { summariseProfiles } from './profile.js';
import type { BenchRow } from './measure.js';
import { installedJemalloc, layerByLayerEnvironment, reuseMallocEnvironment, runsOnGlibc } from '../src/cli/malloc-environment.js';

interface CaseResult { rows: BenchRow[]; peakRssMB: number }

const REPO = fileURLToPath(new URL('..', import.meta.url));
/**
 * A case is stopped when the machine has less than this left: near the end of memory the kernel reclaims
 * the processes' own code pages and a case can thrash for many minutes before the OOM killer acts.
 */
const MEMORY_RESERVE = 2 ** 29;

if (process.argv[2] === '--case') {
  const c = CASES.find((k) => k.name === process.argv[3]);
  if (!c) throw new Error(`unknown case ${process.argv[3]}`);
  const rows = await c.run();
  process.stdout.write(JSON.stringify({ rows, peakRssMB: process.resourceUsage().maxRSS / 1024 } satisfies CaseResult));
} else {
  const { values, positionals } = parseArgs({ options: { baseline: { type: 'string' }, profile: { type: 'boolean' } }, allowPositionals: true });
  const selected = positionals.length ? CASES.filter((c) => positionals.includes(c.name)) : CASES;
  const unknown = positionals.filter((name) => !CASES.some((c) => c.name === name));
  if (unknown.length) throw new Error(`unknown cases ${unknown.join(', ')} (known: ${CASES.map((c) => c.name).join(', ')})`);
  if (values.profile) {
    if (positionals.length === 0 || values.baseline) throw new Error('--profile takes the cases to profile, and no --baseline');
    for (const c of selected) process.stdout.write(`## ${c.name}\n\n${await profile(c)}\n\n`);
    process.exit(0);
  }
  const baseline = values.baseline === undefined ? undefined : checkout(values.baseline);
  try {
    const lines = await (baseline ? compare(selected, baseline) : measure(selected));
    const table = report(lines, baseline && values.baseline);
    process.stdout.write(`${table}\n`);
    if (positionals.length === 0 && !baseline) writeFileSync(new URL('./RESULTS.md', import.meta.url), table);
  } finally {
    if (baseline) {
      execFileSync('git', ['-C', REPO, 'worktree', 'remove', '--force', baseline.dir]);
      rmSync(dirname(baseline.dir), { recursive: true, force: true });
    }
  }
}

/**
 * The environment a tree's `ganvec` executable runs this case's command in: from the commit with
 * cli/launch.ts on, adaptation steps run with malloc reusing memory, and from the one with
 * layerByLayerEnvironment on, StyleGAN3's with jemalloc where it is installed (cli/malloc-environment.ts).
 */
function cliEnvironment(root: string, name: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const launcher = join(root, 'src/cli/malloc-environment.ts');
  if (!existsSync(launcher) || !/adapt/.test(name)) return env;
  const reuse = reuseMallocEnvironment(env, runsOnGlibc(), 'adapt');
  if (!reuse) return env;
  if (!name.startsWith('sg3')) return reuse;
  const jemalloc = readFileSync(launcher, 'utf8').includes('layerByLayerEnvironment') ? installedJemalloc() : undefined;
  return layerByLayerEnvironment(env, jemalloc) ?? env;
}

/** A "<field>: <n> kB" line of a /proc file, in bytes. */
function procBytes(path: string, field: string): number | undefined {
  try {
    const line = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(path, 'utf8'));
    return line ? Number(line[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs one case in its own process from the bench of the tree at `root`, as its CLI would run; undefined
 * if that bench lacks it. Throws, saying why, when the case's process does not finish.
 */
async function runCase(root: string, name: string, base: NodeJS.ProcessEnv = process.env): Promise<CaseResult | undefined> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/run.ts'), '--case', name], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: cliEnvironment(root, name, base),
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  let stoppedAt: string | undefined;
  const watch = setInterval(() => {
    if (stoppedAt !== undefined || (procBytes('/proc/meminfo', 'MemAvailable') ?? freemem()) >= MEMORY_RESERVE) return;
    stoppedAt = `${((procBytes(`/proc/${child.pid}/status`, 'VmHWM') ?? 0) / 2 ** 20).toFixed(0)} MB`;
    child.kill('SIGKILL');
  }, 500);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  clearInterval(watch);
  if (stoppedAt !== undefined) throw new Error(`out of memory (stopped at ${stoppedAt})`);
  if (exit.code === 0) return JSON.parse(out) as CaseResult;
  if (root !== REPO && /unknown case/.test(err)) return undefined;
  process.stderr.write(err.trim().split('\n').slice(-3).join('\n') + '\n');
  // The kernel's OOM killer sends SIGKILL.
  throw new Error(exit.signal ? `killed by ${exit.signal}` : `failed (exit ${exit.code})`);
}

/** One case under ONNX Runtime's profiler; one profile file per session it ran. */
async function profile(c: BenchCase): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ganvec-profile-'));
  try {
    process.stderr.write(`${c.name} (profiling) …\n`);
    await runCase(REPO, c.name, { ...process.env, GANVEC_ORT_PROFILE: join(dir, 'session') });
    return summariseProfiles(readdirSync(dir).sort().map((f) => join(dir, f)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A case's result, or why its process did not finish. */
async function attempt(run: () => Promise<CaseResult | undefined>): Promise<{ result?: CaseResult; failed?: string }> {
  try {
    return { result: await run() };
  } catch (err) {
    return { failed: (err as Error).message };
  }
}

async function measure(selected: readonly BenchCase[]): Promise<string[]> {
  const lines: string[] = [];
  for (const c of selected) {
    process.stderr.write(`${c.name} … `);
    const { result, failed } = await attempt(() => runCase(REPO, c.name));
    process.stderr.write(`${failed ?? `${result!.rows[0]!.value.toFixed(3)} ${result!.rows[0]!.unit}, peak RSS ${result!.peakRssMB.toFixed(0)} MB`}\n`);
    if (!result) lines.push(`| ${c.name} | ${failed} | — | — | — |`);
    for (const r of result?.rows ?? []) lines.push(`| ${r.name} | ${r.value.toFixed(3)} ${r.unit} | ${references(c, r, result!)} | ${result!.peakRssMB.toFixed(0)} MB |`);
  }
  return lines;
}

/** Each case in the baseline's tree, then in this one; a case that fails on either side is reported, not fatal. */
async function compare(selected: readonly BenchCase[], baseline: { dir: string; commit: string }): Promise<string[]> {
  const lines: string[] = [];
  for (const c of selected) {
    process.stderr.write(`${c.name}: baseline … `);
    const { result: old, failed } = await attempt(() => runCase(baseline.dir, c.name));
    process.stderr.write(`${failed ?? (old ? old.rows[0]!.value.toFixed(3) : 'not in the baseline')}; this tree … `);
    const { result: now, failed: nowFailed } = await attempt(() => runCase(REPO, c.name));
    process.stderr.write(`${nowFailed ?? `${now!.rows[0]!.value.toFixed(3)} ${now!.rows[0]!.unit}`}\n`);
    if (!now) lines.push(`| ${c.name} | ${nowFailed} | ${failed ?? (old ? `${old.rows[0]!.value.toFixed(3)}` : '—')} | — | — | — | — / ${old ? old.peakRssMB.toFixed(0) : '—'} MB |`);
    for (const r of now?.rows ?? []) {
      const before = old?.rows.find((o) => o.name === r.name && o.unit === r.unit);
      const ratio = before ? `${(r.value / before.value).toFixed(2)}` : '—';
      const oldValue = before ? `${before.value.toFixed(3)}` : failed ?? '—';
      const rss = `${now!.peakRssMB.toFixed(0)} / ${old ? old.peakRssMB.toFixed(0) : '—'} MB`;
      lines.push(`| ${r.name} | ${r.value.toFixed(3)} ${r.unit} | ${oldValue} | ${ratio} | ${references(c, r, now!)} | ${rss} |`);
    }
  }
  return lines;
}

/** The PyTorch and roofline columns; they apply to rows in the case's first unit only. */
function references(c: BenchCase, r: BenchRow, result: CaseResult): string {
  const comparable = r.unit === result.rows[0]!.unit;
  const vs = (ref?: number) => (ref && comparable ? `${ref} (${(r.value / ref).toFixed(2)}x)` : '—');
  return `${vs(c.pytorch)} | ${vs(c.roofline)}`;
}

function checkout(ref: string): { dir: string; commit: string } {
  const commit = execFileSync('git', ['-C', REPO, 'rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = join(mkdtempSync(join(tmpdir(), 'ganvec-baseline-')), 'tree');
  execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', dir, commit], { stdio: 'ignore' });
  // The baseline runs from its sources (tsx) with this tree's packages; a baseline with other dependencies
  // would need its own `npm ci` there.
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  // The web viewer's cases serve the tree's own bundled page.
  const scripts = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  if (scripts['build:web']) execFileSync('npm', ['run', '--silent', 'build:web'], { cwd: dir, stdio: 'ignore' });
  process.stderr.write(`baseline ${ref} = ${commit.slice(0, 12)} in ${dir}\n`);
  return { dir, commit };
}

function report(lines: string[], baselineRef: string | undefined): string {
  const ort = JSON.parse(execFileSync('npm', ['ls', 'onnxruntime-node', '--json'], { encoding: 'utf8', cwd: REPO })).dependencies?.['onnxruntime-node']?.version;
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}, onnxruntime-node ${ort}, float32, all cores`;
  const header = baselineRef
    ? ['| case | this tree | baseline | new/old | PyTorch | roofline | peak RSS new / old |', '| --- | --- | --- | --- | --- | --- | --- |']
    : ['| case | ganvec | PyTorch | roofline | peak RSS |', '| --- | --- | --- | --- | --- |'];
  return [
    `# Benchmarks`,
    ``,
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench${baselineRef ? ` -- --baseline ${baselineRef}` : ''}\` on ${machine}.`,
    `Random weights of the real shapes. "PyTorch" is the public reference code measured on the 2-core Intel machine (../shared/ANCHORS.md);`,
    `the ratio is ours / theirs (below 1 is faster). Peak RSS is the whole benchmark process.`,
    baselineRef ? `Each case ran in the baseline's tree, then in this one; new/old below 1 is faster.` : `This machine is a shared VM: repeated runs of the same case differ by up to about ±25%.`,
    ``,
    ...header,
    ...lines,
    ``,
  ].join('\n');
}

