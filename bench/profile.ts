/**
 * Summary of ONNX Runtime profile files (`npm run bench -- --profile <case>`): the share of kernel time
 * per op type, and the slowest convolutions with their achieved GFLOP/s — what decides whether a layer
 * is bound by arithmetic (a conv near the machine's rate) or by memory traffic (elementwise ops, reorders).
 */
import { readFileSync } from 'node:fs';

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args: { op_name?: string; input_type_shape?: Array<Record<string, number[]>>; output_type_shape?: Array<Record<string, number[]>> };
}

const shapeOf = (o: Record<string, number[]> | undefined): number[] => (o ? Object.values(o)[0] ?? [] : []);
const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

export function summariseProfiles(files: readonly string[], top = 15): string {
  const byOp = new Map<string, number>();
  const convs: Array<{ file: number; name: string; ms: number; gflops: number; input: number[]; weight: number[] }> = [];
  let total = 0;
  files.forEach((file, f) => {
    const perNode = new Map<string, { us: number; runs: number; event: ProfileEvent }>();
    for (const e of JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[]) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args.op_name) continue;
      byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + e.dur);
      total += e.dur;
      const n = perNode.get(e.name) ?? { us: 0, runs: 0, event: e };
      n.us += e.dur;
      n.runs++;
      perNode.set(e.name, n);
    }
    for (const [name, { us, runs, event }] of perNode) {
      if (event.args.op_name !== 'Conv') continue;
      const [input, weight] = (event.args.input_type_shape ?? []).map(shapeOf) as [number[], number[]];
      // multiply-adds = output elements × (input channels per group × kernel area), from the weight [O, I/g, kh, kw]
      const macs = product(shapeOf(event.args.output_type_shape?.[0])) * product(weight.slice(1));
      const seconds = us / runs / 1e6;
      convs.push({ file: f, name: name.replace(/_kernel_time$/, ''), ms: seconds * 1e3, gflops: (2 * macs) / seconds / 1e9, input, weight });
    }
  });
  const lines = ['| op | share of kernel time |', '| --- | --- |'];
  for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`| ${op} | ${((100 * us) / total).toFixed(1)}% |`);
  if (convs.length === 0) return lines.join('\n');
  lines.push('', '| session | conv node | input | weight | ms per run | GFLOP/s |', '| --- | --- | --- | --- | --- | --- |');
  for (const c of convs.sort((a, b) => b.ms - a.ms).slice(0, top)) {
    lines.push(`| ${c.file} | ${c.name} | ${c.input.join('×')} | ${c.weight.join('×')} | ${c.ms.toFixed(1)} | ${c.gflops.toFixed(1)} |`);
  }
  return lines.join('\n');
}
