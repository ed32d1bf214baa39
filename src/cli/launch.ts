#!/usr/bin/env node
// The `ganvec` executable: the CLI (main.ts); `adapt` runs in a child process whose malloc reuses memory, a layer-by-layer one in a child with jemalloc (malloc-environment.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  RERUN_WITHOUT_MALLOC_REUSE, installedJemalloc, layerByLayerEnvironment, reuseMallocEnvironment, runsOnGlibc,
} from './malloc-environment.js';

interface ChildExit { code: number | null; signal: NodeJS.Signals | null }

/** Runs the CLI in a child with this environment, passing signals to it. */
function runInChild(env: NodeJS.ProcessEnv): Promise<ChildExit> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  // Its own process group, so that a Ctrl-C reaches it once, from here: a second SIGINT would make
  // `adapt` stop at once instead of after saving the step.
  const child = spawn(process.execPath, [...process.execArgv, main, ...process.argv.slice(2)], { stdio: 'inherit', env, detached: true });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    for (const s of signals) process.removeAllListeners(s);
    resolve({ code, signal });
  }));
}

/** How the command ran in a child, or undefined if it is to run in this process. */
async function runElsewhere(): Promise<ChildExit | undefined> {
  const env = reuseMallocEnvironment(process.env, runsOnGlibc(), process.argv[2]);
  if (!env) return undefined;
  const exit = await runInChild(env);
  if (exit.code !== RERUN_WITHOUT_MALLOC_REUSE) return exit;
  const layered = layerByLayerEnvironment(process.env, installedJemalloc());
  return layered && runInChild(layered);
}

const exit = await runElsewhere();
if (!exit) await import('./main.js');
else if (exit.signal) process.kill(process.pid, exit.signal);
else process.exit(exit.code ?? 1);
