/**
 * `npm run fuzz [-- --seconds N] [--seed S] [--out DIR]`: mutates the fixtures of every format ganvec
 * reads (test/fixtures/goldens, test/fixtures/io, and a safetensors generator and domain file written
 * from the goldens) and runs the built CLI on each mutant: `ganvec info FILE`, and the command that loads
 * the file as what it was (`generate --model`, `embed --clip`, `generate --domain`). Every run must
 *   - exit 0 or 1 (no crash, signal or abort);
 *   - on exit 1 print exactly one line on stderr, naming the file;
 *   - print no control characters (other than the newlines that end lines);
 *   - finish within 10 s and stay under 1 GB of resident memory (peak sampled from /proc every 20 ms).
 * Cases are drawn from --seed until --seconds have passed (default 60), one run at a time. Inputs that
 * break a rule are kept in --out (default tmp/fuzz/) with what went wrong; the exit code is then 1.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { bytesSource } from '../../src/io/byte-source.js';
import { readCheckpoint } from '../../src/io/checkpoint.js';
import { baseModelMetadata, writeDomainFile } from '../../src/domains/domain-file.js';
import { ReadBudget } from '../../src/io/read-budget.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { ZipArchive } from '../../src/io/zip.js';
import { loadGenerator } from '../../src/registry/load.js';
import { REPO } from '../helpers/cli.js';
import { buildZip, concat, type ZipEntrySpec } from '../fixtures/io/build-zip.js';

const TIME_LIMIT_MS = 10_000;
const RSS_LIMIT_KB = 1024 * 1024;
const CLI = join(REPO, 'dist/cli/main.js');
const GOLDENS = join(REPO, 'test/fixtures/goldens');
const IO = join(REPO, 'test/fixtures/io');
/** Characters a run may not print: C0 controls but the newline, DEL and C1 controls. */
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    out: { type: 'string', default: join(REPO, 'tmp/fuzz') },
  },
});
const seconds = Number(flags.seconds);
const seed = Number(flags.seed);
if (!(seconds > 0) || !Number.isSafeInteger(seed)) throw new Error('usage: npm run fuzz -- [--seconds N] [--seed INTEGER] [--out DIR]');

// --- seeds: one file per fixture, with what loads it ---------------------------------------------

/** What a file is, which decides the loader that runs on its mutants besides `info`. */
type Role = 'generator' | 'clip' | 'domain' | 'data';

interface Seed {
  name: string;
  bytes: Uint8Array;
  role: Role;
  /** Role and container format: cases take the groups in turn, so the 42 .npy fixtures do not crowd out the rest. */
  group: string;
  /** For zip archives: the entries, so that a mutant can change one and still pass the CRC checks. */
  entries?: ZipEntrySpec[];
}

const work = mkdtempSync(join(tmpdir(), 'ganvec-fuzz-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function roleOf(path: string): Role {
  if (/sg2-tiny-a\/ckpt|sg2ada-tiny-a\/network-snapshot/.test(path)) return 'generator';
  if (/clip-tiny-a\/clip_/.test(path)) return 'clip';
  return 'data';
}

function zipEntries(bytes: Uint8Array, name: string): ZipEntrySpec[] | undefined {
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) return undefined;
  const zip = ZipArchive.open(bytesSource(bytes), name, new ReadBudget(name, bytes.length));
  return [...zip.entries.keys()].map((entry) => ({ name: entry, data: zip.read(entry) }));
}

async function loadSeeds(): Promise<Seed[]> {
  const files = [
    ...readdirSync(GOLDENS, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) => readdirSync(join(GOLDENS, d.name)).map((f) => join(GOLDENS, d.name, f))),
    ...readdirSync(IO).map((f) => join(IO, f)),
  ].filter((path) => ['.pt', '.pkl', '.npy'].includes(extname(path)));
  const seeds: Seed[] = files.map((path) => {
    const bytes = new Uint8Array(readFileSync(path));
    const entries = zipEntries(bytes, path);
    const role = roleOf(path);
    return { name: path.slice(REPO.length), bytes, role, group: `${role} ${entries ? 'zip' : extname(path)}`, entries };
  });
  // safetensors has no fixture of its own: a rosinality generator and a domain file for it, written here.
  const ckpt = join(GOLDENS, 'sg2-tiny-a/ckpt.pt');
  const generator = join(work, 'generator.safetensors');
  const tensors = (await readCheckpoint(ckpt)).tensors as Map<string, { data: Float32Array; shape: number[] }>;
  await writeSafetensors(generator, tensors);
  const G = await loadGenerator(ckpt);
  const domain = join(work, 'ckpt.dv.safetensors');
  await writeDomainFile(domain, {
    vector: Float32Array.from({ length: G.domainSize }, (_, i) => Math.sin(i) / 10),
    layers: G.domainLayers,
    metadata: { ...baseModelMetadata(G), prompt: 'pixar', losses: '{"direction":1}', iterations: '1', clip_models: 'ViT-B/32', seed: '0' },
  });
  await G.release();
  seeds.push({ name: 'generated/generator.safetensors', bytes: new Uint8Array(readFileSync(generator)), role: 'generator', group: 'generator safetensors' });
  seeds.push({ name: 'generated/ckpt.dv.safetensors', bytes: new Uint8Array(readFileSync(domain)), role: 'domain', group: 'domain safetensors' });
  return seeds;
}

// --- mutations ---------------------------------------------------------------------------------------

/** mulberry32: a small seeded generator, so that a run is reproduced by its --seed. */
function random(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Rng = () => number;
const below = (rng: Rng, n: number) => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[below(rng, items.length)]!;

/** Values at the edges of what length and count fields hold: signed and unsigned, 8 to 64 bits. */
const INTERESTING: readonly bigint[] = [0n, 1n, 2n, 255n, 256n, 4096n, 65535n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 2n ** 53n, 2n ** 62n, 2n ** 63n - 1n, 2n ** 64n - 1n];

/** One random change to the bytes, described for the report. */
function mutateBytes(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const out = Uint8Array.from(bytes);
  const at = below(rng, Math.max(1, bytes.length));
  switch (below(rng, 7)) {
    case 0: {
      const flips = 1 + below(rng, 8);
      for (let i = 0; i < flips; i++) out[below(rng, out.length)] ^= 1 << below(rng, 8);
      return { bytes: out, how: `flip ${flips} bits` };
    }
    case 1: {
      const value = pick(rng, [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]);
      out[at] = value;
      return { bytes: out, how: `byte ${at} = 0x${value.toString(16)}` };
    }
    case 2: {
      // An edge value, maybe negated, little-endian over 1, 2, 4 or 8 bytes: lengths, counts, offsets.
      const value = edgeValue(rng, pick(rng, [1, 2, 4, 8]));
      out.set(value.slice(0, out.length - at), at);
      return { bytes: out, how: `${value.length}-byte edge value at ${at}` };
    }
    case 3:
      return { bytes: bytes.slice(0, at), how: `truncate at ${at}` };
    case 4: {
      const length = 1 + below(rng, Math.min(4096, bytes.length - at));
      const copies = 1 + below(rng, 8);
      const chunk = bytes.subarray(at, at + length);
      const parts = [bytes.subarray(0, at), ...Array.from({ length: copies }, () => chunk), bytes.subarray(at)];
      return { bytes: concat(parts), how: `repeat ${length} bytes at ${at} ×${copies}` };
    }
    case 5: {
      const length = 1 + below(rng, Math.min(4096, bytes.length - at));
      return { bytes: concat([bytes.subarray(0, at), bytes.subarray(at + length)]), how: `delete ${length} bytes at ${at}` };
    }
    default: {
      // Copy a chunk from elsewhere over this place: structures land where other structures were.
      const from = below(rng, bytes.length);
      const length = 1 + below(rng, Math.min(256, bytes.length - from, bytes.length - at));
      out.set(bytes.subarray(from, from + length), at);
      return { bytes: out, how: `copy ${length} bytes from ${from} to ${at}` };
    }
  }
}

/** Little-endian bytes of an edge value over `width` bytes, maybe negated. */
function edgeValue(rng: Rng, width: number): number[] {
  const field = BigInt.asUintN(8 * width, rng() < 0.3 ? -pick(rng, INTERESTING) : pick(rng, INTERESTING));
  return Array.from({ length: width }, (_, i) => Number((field >> BigInt(8 * i)) & 0xffn));
}

/**
 * Opcode sequences that stress a pickle machine, inserted at a random place: length operands at their
 * edges, floods of containers, marks and nesting, memo-shared ladders, names with control characters.
 */
function pickleToken(rng: Rng): { bytes: number[]; how: string } {
  const flood = (ops: number[], times: number) => Array.from({ length: times }, () => ops).flat();
  const times = pick(rng, [10, 1000, 100_000]);
  const name = [...new TextEncoder().encode('os\x1b]0;title\x07\nsys\u009btem\n')];
  const tokens: (() => { bytes: number[]; how: string })[] = [
    () => ({ bytes: [0x54, ...edgeValue(rng, 4)], how: 'BINSTRING' }),
    () => ({ bytes: [0x8b, ...edgeValue(rng, 4)], how: 'LONG4' }),
    () => ({ bytes: [0x58, ...edgeValue(rng, 4)], how: 'BINUNICODE' }),
    () => ({ bytes: [0x42, ...edgeValue(rng, 4)], how: 'BINBYTES' }),
    () => ({ bytes: [pick(rng, [0x8d, 0x8e, 0x96, 0x95]), ...edgeValue(rng, 8)], how: '8-byte length' }),
    () => ({ bytes: [pick(rng, [0x6a, 0x72]), ...edgeValue(rng, 4)], how: 'LONG_BINGET/PUT' }),
    () => ({ bytes: [0x47, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], how: 'BINFLOAT NaN' }),
    () => ({ bytes: flood([pick(rng, [0x7d, 0x5d, 0x29, 0x28, 0x8f])], times), how: `${times} containers or marks` }),
    () => ({ bytes: [0x4e, ...flood([0x85], times)], how: `tuples nested ${times} deep` }),
    () => ({ bytes: [0x5d, 0x71, 0, ...flood([0x30, 0x28, 0x68, 0, 0x68, 0, 0x6c, 0x71, 0], 30), 0x68, 0], how: 'memo-shared lists, 30 levels' }),
    () => ({ bytes: [0x63, ...name], how: 'GLOBAL with control characters' }),
  ];
  return pick(rng, tokens)();
}

/** Operand sizes of the pickle opcodes (pickletools' table, by argument kind). */
const OPERAND: Record<number, number | 'u8 data' | 'u32 data' | 'u64 data' | 'line' | '2 lines'> = {
  ...Object.fromEntries([0x4b, 0x68, 0x71, 0x80, 0x82].map((op) => [op, 1])),
  ...Object.fromEntries([0x4d, 0x83].map((op) => [op, 2])),
  ...Object.fromEntries([0x4a, 0x6a, 0x72, 0x84].map((op) => [op, 4])),
  ...Object.fromEntries([0x47, 0x95].map((op) => [op, 8])),
  ...Object.fromEntries([0x55, 0x43, 0x8c, 0x8a].map((op) => [op, 'u8 data'])),
  ...Object.fromEntries([0x58, 0x42, 0x54, 0x8b].map((op) => [op, 'u32 data'])),
  ...Object.fromEntries([0x8d, 0x8e, 0x96].map((op) => [op, 'u64 data'])),
  ...Object.fromEntries([0x49, 0x4c, 0x46, 0x53, 0x56, 0x50, 0x67, 0x70].map((op) => [op, 'line'])),
  ...Object.fromEntries([0x63, 0x69].map((op) => [op, '2 lines'])),
  ...Object.fromEntries([...'()./012N]}abdelostuRQ'].map((c) => [c.charCodeAt(0), 0])),
  ...Object.fromEntries([0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98].map((op) => [op, 0])),
};

/** Where the opcodes of the pickles at the start of `bytes` begin, up to the first byte that is not one. */
function opcodeStarts(bytes: Uint8Array): number[] {
  const starts: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.length && starts.length < 100_000; ) {
    const operand = OPERAND[bytes[at]!];
    if (operand === undefined) break;
    starts.push(at);
    const next = (n: number) => at + 1 + n;
    const lineEnd = (from: number) => bytes.indexOf(0x0a, from) + 1 || bytes.length;
    if (typeof operand === 'number') at = next(operand);
    else if (operand === 'u8 data') at = next(1 + (bytes[at + 1] ?? 0));
    else if (operand === 'u32 data') at = at + 5 <= bytes.length ? next(4 + view.getUint32(at + 1, true)) : bytes.length;
    else if (operand === 'u64 data') at = at + 9 <= bytes.length ? next(8 + Number(view.getBigUint64(at + 1, true))) : bytes.length;
    else if (operand === 'line') at = lineEnd(at + 1);
    else at = lineEnd(lineEnd(at + 1));
  }
  return starts;
}

/** A mutation of the bytes; for a pickle, often one at an opcode: a stress token inserted, or an operand changed. */
function mutateOnce(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const starts = bytes[0] === 0x80 ? opcodeStarts(bytes) : [];
  if (starts.length < 2 || rng() < 0.5) return mutateBytes(bytes, rng);
  const at = pick(rng, starts);
  if (rng() < 0.5) {
    const token = pickleToken(rng);
    return { bytes: concat([bytes.subarray(0, at), Uint8Array.from(token.bytes), bytes.subarray(at)]), how: `insert ${token.how} at opcode ${at}` };
  }
  const out = Uint8Array.from(bytes);
  const value = edgeValue(rng, pick(rng, [1, 4, 8]));
  out.set(value.slice(0, out.length - at - 1), at + 1);
  return { bytes: out, how: `operand of opcode 0x${bytes[at]!.toString(16)} at ${at} = ${value.length}-byte edge value` };
}

/** A mutant of a seed: raw bytes, or for zips often one entry changed inside a well-formed archive. */
function mutate(s: Seed, rng: Rng): { bytes: Uint8Array; how: string } {
  const rounds = 1 + below(rng, 3);
  if (s.entries !== undefined && rng() < 0.7) {
    const entries = s.entries.map((e) => ({ ...e }));
    const pickle = entries.findIndex((e) => e.name.endsWith('data.pkl'));
    const index = pickle >= 0 && rng() < 0.6 ? pickle : below(rng, entries.length);
    const entry = entries[index]!;
    const hows: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const m = mutateOnce(entry.data, rng);
      entry.data = m.bytes;
      hows.push(m.how);
    }
    entry.deflate = rng() < 0.3;
    if (rng() < 0.1) entry.declaredSize = Number(BigInt.asUintN(32, pick(rng, INTERESTING)));
    const lie = entry.declaredSize === undefined ? '' : `, declared ${entry.declaredSize} bytes`;
    return { bytes: buildZip(entries), how: `zip entry ${entry.name}${entry.deflate ? ' (deflated)' : ''}: ${hows.join('; ')}${lie}` };
  }
  let bytes = s.bytes;
  const hows: string[] = [];
  for (let r = 0; r < rounds; r++) {
    const m = mutateOnce(bytes, rng);
    bytes = m.bytes;
    hows.push(m.how);
  }
  return { bytes, how: hows.join('; ') };
}

// --- running the CLI ---------------------------------------------------------------------------------

interface RunResult {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  peakRssKb: number;
  killedFor?: string;
}

/** The peak resident set of a live process, from the kernel's high-water mark. */
function peakRssKb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // the process has just exited
  }
}

function runCli(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: work,
      env: { ...process.env, GANVEC_OFFLINE: '1', GANVEC_HOME: join(work, 'home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let killedFor: string | undefined;
    const kill = (why: string) => {
      killedFor ??= why;
      child.kill('SIGKILL');
    };
    const sampler = setInterval(() => {
      peak = Math.max(peak, peakRssKb(child.pid!));
      if (peak > RSS_LIMIT_KB) kill(`resident memory passed ${RSS_LIMIT_KB / 1024} MB`);
      if (Date.now() - started > TIME_LIMIT_MS) kill(`still running after ${TIME_LIMIT_MS / 1000} s`);
    }, 20);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      resolve({ args, code, signal, stdout, stderr, ms: Date.now() - started, peakRssKb: peak, killedFor });
    });
  });
}

/** What is wrong with a run on `file`, or undefined when it kept every rule. */
function problemWith(r: RunResult, file: string): string | undefined {
  if (r.killedFor) return `killed: ${r.killedFor}`;
  if (r.signal !== null) return `died of ${r.signal}`;
  if (r.ms > TIME_LIMIT_MS) return `took ${r.ms} ms`;
  if (r.code !== 0 && r.code !== 1) return `exit code ${r.code}`;
  if (CONTROL.test(r.stdout) || CONTROL.test(r.stderr)) return 'control characters in the output';
  if (r.code === 1) {
    if (!/^ganvec: [^\n]*\n$/.test(r.stderr)) return 'the error is not exactly one line';
    if (!r.stderr.includes(file)) return 'the error does not name the file';
  }
  return undefined;
}

/** The commands that read a mutant: always `info`, and the loader of what the seed was. */
function commandsFor(role: Role, file: string): string[][] {
  const npy = join(work, 'out.npy');
  const loader: Record<Role, string[] | undefined> = {
    generator: ['generate', '--model', file, '--seeds', '0', '--threads', '1', '--npy', npy],
    clip: ['embed', '--clip', file, '--text', 'a photo', '--out', npy],
    domain: ['generate', '--model', join(GOLDENS, 'sg2-tiny-a/ckpt.pt'), '--domain', file, '--seeds', '0', '--threads', '1', '--npy', npy],
    data: undefined,
  };
  return [['info', file], ...(loader[role] ? [loader[role]!] : [])];
}

// --- the loop ----------------------------------------------------------------------------------------

const seeds = await loadSeeds();
const groups = [...new Set(seeds.map((s) => s.group))].map((group) => seeds.filter((s) => s.group === group));
mkdirSync(flags.out, { recursive: true });
const deadline = Date.now() + seconds * 1000;
const stats = { cases: 0, runs: 0, ok: 0, refused: 0, failures: 0, slowestMs: 0, peakRssKb: 0 };
process.stderr.write(`fuzz: ${seeds.length} seed files in ${groups.length} groups, seed ${seed}, ${seconds} s\n`);

for (let index = 0; Date.now() < deadline; index++) {
  const rng = random(seed ^ Math.imul(index + 1, 0x9e3779b1));
  const s = pick(rng, groups[index % groups.length]!);
  const { bytes, how } = mutate(s, rng);
  const file = join(work, `case-${index}${extname(s.name)}`);
  writeFileSync(file, bytes);
  stats.cases++;
  for (const args of commandsFor(s.role, file)) {
    const r = await runCli(args);
    stats.runs++;
    stats.slowestMs = Math.max(stats.slowestMs, r.ms);
    stats.peakRssKb = Math.max(stats.peakRssKb, r.peakRssKb);
    const problem = problemWith(r, file);
    if (problem === undefined) {
      if (r.code === 0) stats.ok++;
      else stats.refused++;
      continue;
    }
    stats.failures++;
    const kept = join(flags.out, `${seed}-${index}-${basename(s.name)}`);
    writeFileSync(kept, bytes);
    const report = [`${problem}`, `seed file: ${s.name}`, `mutation: ${how}`, `command: ganvec ${r.args.join(' ')}`, `exit: ${r.code} ${r.signal ?? ''}`, `time: ${r.ms} ms, peak RSS ${Math.round(r.peakRssKb / 1024)} MB`, `stdout: ${JSON.stringify(r.stdout.slice(0, 2000))}`, `stderr: ${JSON.stringify(r.stderr.slice(0, 2000))}`];
    writeFileSync(`${kept}.txt`, `${report.join('\n')}\n`);
    process.stderr.write(`FAIL ${kept}: ${problem} (ganvec ${r.args[0]}, ${how})\n`);
  }
}

process.stderr.write(
  `fuzz: ${stats.cases} cases, ${stats.runs} runs in ${seconds} s (seed ${seed}): ${stats.ok} read, ${stats.refused} refused with one line, ` +
    `${stats.failures} failures; slowest run ${stats.slowestMs} ms, peak RSS ${Math.round(stats.peakRssKb / 1024)} MB\n`,
);
if (stats.failures > 0) process.exitCode = 1;
