#!/usr/bin/env node
// The `ganvec` executable: the CLI (main.ts); `adapt` runs in a child process whose malloc reuses memory (malloc-environment.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RERUN_WITHOUT_MALLOC_REUSE, reuseMallocEnvironment, runsOnGlibc } from './malloc-environment.js';

const env = reuseMallocEnvironment(process.env, runsOnGlibc(), process.argv[2]);
if (!env) {
  await import('./main.js');
} else {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  // Its own process group, so that a Ctrl-C reaches it once, from here: a second SIGINT would make
  // `adapt` stop at once instead of after saving the step.
  const child = spawn(process.execPath, [...process.execArgv, main, ...process.argv.slice(2)], { stdio: 'inherit', env, detached: true });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.on('exit', async (code, signal) => {
    for (const s of signals) process.removeAllListeners(s);
    if (signal) process.kill(process.pid, signal);
    else if (code === RERUN_WITHOUT_MALLOC_REUSE) await import('./main.js');
    else process.exit(code ?? 1);
  });
}
