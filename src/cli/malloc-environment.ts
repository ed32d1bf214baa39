import { existsSync } from 'node:fs';

/**
 * Why the `ganvec` executable runs `adapt` in a second process (launch.ts): ONNX Runtime allocates every
 * large activation with malloc, and glibc serves blocks above 32 MB with a fresh mmap, so a 1024 px
 * training step faulted in about 1.2 million zeroed pages (4.5 GB) every step, 2.5–3.5 s of kernel time.
 * With mmap off for malloc and the heap never trimmed, a step reuses the previous step's pages: the
 * FFHQ-1024 step ran 1.2x faster at a lower peak (bench/RESULTS.md). Only `adapt`, which repeats one graph:
 * StyleGAN3's generation, whose many temporaries of many sizes fragment a heap that is never trimmed,
 * ran 3.5x faster but peaked at 3.5x the memory (16 GB for one 1024 px image). glibc reads these
 * settings only at start-up. Nor for a family whose steps run layer by layer (StyleGAN3), whose sessions'
 * many sizes fragment the heap the same way: its 1024 px step ran out of 24 GB with these settings and
 * peaks at 14 GB without. Such an `adapt` exits early with RERUN_WITHOUT_MALLOC_REUSE, and launch.ts runs
 * it again with jemalloc where it is installed (Debian's libjemalloc2), else in its own process with glibc's
 * defaults. Those defaults fault in fresh pages for every large buffer: 15 million faults, 60 s of kernel
 * time, in three 128 px StyleGAN3-T steps. jemalloc keeping its freed pages reuses them without the heap
 * fragmenting: the 1024 px step at batch 2 ran in 152 s instead of 420 s, peaking at 19 GB instead of 16.
 */

/** Marks the environment of an `adapt` child that runs with malloc reuse. */
export const MALLOC_REUSE_MARK = 'GANVEC_MALLOC_REUSE';
/** The exit code by which that child asks launch.ts to run the command with glibc's defaults. */
export const RERUN_WITHOUT_MALLOC_REUSE = 75;

/** The environment to re-run the CLI in, or undefined to run it as it is (not adapt, not glibc, or the user chose). */
export function reuseMallocEnvironment(env: NodeJS.ProcessEnv, glibc: boolean, command: string | undefined): NodeJS.ProcessEnv | undefined {
  if (command !== 'adapt' || !glibc || env.MALLOC_MMAP_MAX_ !== undefined || env.MALLOC_TRIM_THRESHOLD_ !== undefined) return undefined;
  return { ...env, MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(2 ** 46), [MALLOC_REUSE_MARK]: '1' };
}

/** Where distributions install jemalloc's shared library (Debian and Ubuntu, Fedora and Arch, a source build). */
const JEMALLOC_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2', '/usr/lib/libjemalloc.so.2', '/usr/local/lib/libjemalloc.so.2',
];

export function installedJemalloc(): string | undefined {
  return JEMALLOC_PATHS.find((path) => existsSync(path));
}

/**
 * Freed pages are never returned to the system, so every layer's session reuses the previous ones'.
 * With jemalloc's defaults (a 10 s decay, blocks above 8 MiB returned at once) the steps were as slow as
 * with glibc's.
 */
const JEMALLOC_RETAINING = 'dirty_decay_ms:-1,muzzy_decay_ms:-1';

/**
 * The environment to run a layer-by-layer `adapt` in, from the launcher's own (which has no reuse
 * settings): jemalloc preloaded, configured as below unless the user configured it; undefined without jemalloc.
 */
export function layerByLayerEnvironment(env: NodeJS.ProcessEnv, jemalloc: string | undefined): NodeJS.ProcessEnv | undefined {
  if (!jemalloc) return undefined;
  return { ...env, LD_PRELOAD: [jemalloc, env.LD_PRELOAD].filter(Boolean).join(':'), MALLOC_CONF: env.MALLOC_CONF ?? JEMALLOC_RETAINING };
}

export function runsOnGlibc(): boolean {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return typeof header?.glibcVersionRuntime === 'string';
}
