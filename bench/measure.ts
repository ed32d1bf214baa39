/** Shared timing helpers for the benchmarks. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
}

/** One warm-up call (session build, first-run allocations), then the median of `runs` timed calls. */
export async function timeRuns(fn: () => Promise<unknown>, runs: number): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
