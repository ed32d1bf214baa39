/**
 * `npm run bench [case…]`: runs each case in a child process, prints seconds and peak RSS against the
 * PyTorch reference and the roofline, and writes bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CASES } from './cases.js';
import type { BenchRow } from './measure.js';

interface CaseResult { rows: BenchRow[]; peakRssMB: number }

const child = process.argv[2] === '--case';
if (child) {
  const c = CASES.find((k) => k.name === process.argv[3]);
  if (!c) throw new Error(`unknown case ${process.argv[3]}`);
  const rows = await c.run();
  process.stdout.write(JSON.stringify({ rows, peakRssMB: process.resourceUsage().maxRSS / 1024 } satisfies CaseResult));
} else {
  const wanted = process.argv.slice(2);
  const selected = wanted.length ? CASES.filter((c) => wanted.includes(c.name)) : CASES;
  const lines: string[] = [];
  for (const c of selected) {
    process.stderr.write(`${c.name} … `);
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', c.name], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const result = JSON.parse(out) as CaseResult;
    for (const r of result.rows) {
      // The references are per step or per image: they apply to rows in the case's first unit only.
      const comparable = r.unit === result.rows[0]!.unit;
      const vs = (ref?: number) => (ref && comparable ? `${ref} (${(r.value / ref).toFixed(2)}x)` : '—');
      const line = `| ${r.name} | ${r.value.toFixed(3)} ${r.unit} | ${vs(c.pytorch)} | ${vs(c.roofline)} | ${result.peakRssMB.toFixed(0)} MB |`;
      lines.push(line);
      process.stderr.write(`${r.value.toFixed(3)} ${r.unit}, peak RSS ${result.peakRssMB.toFixed(0)} MB\n`);
    }
  }
  const ort = JSON.parse(execFileSync('npm', ['ls', 'onnxruntime-node', '--json'], { encoding: 'utf8' })).dependencies?.['onnxruntime-node']?.version;
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}, onnxruntime-node ${ort}, float32, all cores`;
  const table = [
    `# Benchmarks`,
    ``,
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` on ${machine}.`,
    `Random weights of the real shapes. "PyTorch" is the public reference code on the same machine (../shared/ANCHORS.md);`,
    `the ratio is ours / theirs (below 1 is faster). Peak RSS is the whole benchmark process.`,
    `This machine is a shared VM: repeated runs of the same case differ by up to about ±25%.`,
    ``,
    `| case | ganvec | PyTorch | roofline | peak RSS |`,
    `| --- | --- | --- | --- | --- |`,
    ...lines,
    ``,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (wanted.length === 0) writeFileSync(new URL('./RESULTS.md', import.meta.url), table);
}
