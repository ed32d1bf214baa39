// Bundles the viewer (examples/web) into dist/web-page/ with esbuild, next to the onnxruntime-web
// wasm it loads at run time; `ganvec serve-web` serves that folder.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', '..', 'dist', 'web-page');
// The WebGPU build of onnxruntime-web (it has the wasm backend too) runs on the asyncify wasm.
const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

await mkdir(join(out, 'ort'), { recursive: true });
await build({
  entryPoints: [join(here, 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  // Load the wasm glue from ort/ rather than inlining it into the bundle.
  conditions: ['onnxruntime-web-use-extern-wasm'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
await copyFile(join(here, 'index.html'), join(out, 'index.html'));
const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
for (const file of ORT_FILES) await copyFile(join(ortDist, file), join(out, 'ort', file));
process.stdout.write(`built ${out}\n`);
