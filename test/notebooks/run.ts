/**
 * `npm run notebooks`: executes every examples/notebooks/*.ipynb headless with the tslab kernel (Debian's
 * Jupyter, installed when missing; DESIGN.md §8) on the tiny test fixtures, and fails when a cell raises or
 * when a cell that calls `display.png(` produced fewer image/png outputs than it has such calls. Executed
 * copies go to a temporary directory, never into the tree. The photo notebook gets scikit-image's
 * astronaut.png (Debian's python3-skimage, installed when missing, as the face tests do).
 *
 * `npm run notebooks -- --self-test`: runs the same checks on two generated notebooks, one with a cell that
 * raises and one whose display call is never reached, and fails unless both are caught.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { astronautPhoto } from '../helpers/astronaut.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NOTEBOOKS = join(REPO, 'examples/notebooks');
const FIXTURES = join(REPO, 'test/fixtures/goldens');

interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Array<{ output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown> }>;
}

const text = (source: string | string[]) => (Array.isArray(source) ? source.join('') : source);

/** Display calls without an image in an executed notebook. */
function problems(executed: { cells: Cell[] }): string[] {
  const found: string[] = [];
  executed.cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code') return;
    const outputs = cell.outputs ?? [];
    const calls = text(cell.source).split('display.png(').length - 1;
    const images = outputs.filter((o) => o.data && 'image/png' in o.data).length;
    if (images < calls) found.push(`cell ${i + 1} calls display.png ${calls} time(s) but shows ${images} image(s)`);
  });
  return found;
}

function ensureJupyter(): void {
  if (spawnSync('sh', ['-c', 'command -v jupyter-nbconvert']).status === 0) return;
  const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: 'inherit' });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', '--no-install-recommends', 'jupyter-nbconvert', 'python3-nbconvert', 'python3-nbclient',
    'python3-ipykernel', 'jupyter-client', 'jupyter-core']);
}

/** Installs the tslab kernel into a temporary prefix; returns its JUPYTER_PATH. */
function installKernel(prefix: string): string {
  execFileSync(join(REPO, 'node_modules/.bin/tslab'), ['install', '--python=/usr/bin/python3',
    `--binary=${join(REPO, 'node_modules/.bin/tslab')}`, `--prefix=${prefix}`], { stdio: 'ignore' });
  return join(prefix, 'share/jupyter');
}

/**
 * A scratch project the notebooks run in, as a user's would: `ganvec` (this built tree), tslab and the Node
 * types in its node_modules, so `await import('ganvec')` resolves and type-checks as it does there.
 */
function userProject(dir: string): string {
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  symlinkSync(REPO, join(dir, 'node_modules/ganvec'));
  symlinkSync(join(REPO, 'node_modules/tslab'), join(dir, 'node_modules/tslab'));
  symlinkSync(join(REPO, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'notebooks', private: true, type: 'module' }));
  return dir;
}

/** The kernel, and the tiny fixtures in place of the registry models, offline, with short runs and a scratch cache. */
function notebookEnv(jupyterPath: string, project: string, photo?: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    JUPYTER_PATH: jupyterPath,
    GANVEC_HOME: join(project, 'ganvec-home'),
    GANVEC_OFFLINE: '1',
    GANVEC_NOTEBOOK_GENERATOR: join(FIXTURES, 'sg2-tiny-a/ckpt.pt'),
    GANVEC_NOTEBOOK_CLIP: join(FIXTURES, 'clip-tiny-a/clip_state_dict.pt'),
    GANVEC_NOTEBOOK_ITERS: '10',
    GANVEC_NOTEBOOK_EVAL_SAMPLES: '8',
    GANVEC_NOTEBOOK_LPIPS_TRUNK: join(FIXTURES, 'lpips-tiny-a/vgg16.pth'),
    GANVEC_NOTEBOOK_LPIPS_LIN: join(FIXTURES, 'lpips-tiny-a/lpips_vgg.pth'),
    ...(photo && { GANVEC_NOTEBOOK_PHOTO: photo }),
  };
}

/** Executes one notebook: a cell that raises stops nbconvert (tslab reports it as an execute error). */
function execute(notebook: string, env: NodeJS.ProcessEnv, outDir: string, project: string): string[] {
  const copy = join(project, basename(notebook));
  copyFileSync(notebook, copy);
  const run = spawnSync('jupyter', ['nbconvert', '--to', 'notebook', '--execute',
    '--ExecutePreprocessor.timeout=600', '--output-dir', outDir, copy], {
    cwd: project, encoding: 'utf8', env,
  });
  const executed = join(outDir, basename(notebook));
  if (run.status !== 0 || !existsSync(executed)) {
    // nbclient prints the failing cell between two rules; tslab's error reply carries no message, but
    // its stderr output does: run once more keeping outputs to quote it.
    const cell = /executing the following cell:\n-+\n([\s\S]*?)\n-+\n/.exec(run.stderr)?.[1];
    if (!cell) return [`nbconvert failed: ${run.stderr.trim().split('\n').slice(-2).join(' | ')}`];
    return [`a cell raised: ${cell.split('\n').slice(0, 3).join(' ⏎ ')}${errorText(copy, cell, env, outDir, project)}`];
  }
  return problems(JSON.parse(readFileSync(executed, 'utf8')) as { cells: Cell[] });
}

/** The stderr output of the failing cell (tslab's error and stack), from a run that keeps errors. */
function errorText(notebook: string, source: string, env: NodeJS.ProcessEnv, outDir: string, project: string): string {
  spawnSync('jupyter', ['nbconvert', '--to', 'notebook', '--execute', '--allow-errors', '--ExecutePreprocessor.timeout=600',
    '--output-dir', outDir, notebook], { cwd: project, env });
  const executed = join(outDir, basename(notebook));
  if (!existsSync(executed)) return '';
  const cell = (JSON.parse(readFileSync(executed, 'utf8')) as { cells: Cell[] }).cells.find((c) => text(c.source).trim() === source.trim());
  const stderr = (cell?.outputs ?? []).filter((o) => o.output_type === 'stream' && o.name === 'stderr').map((o) => text(o.text ?? '')).join('');
  const message = stderr.split('\n').find((line) => /\w*Error\b|^\d+:\d+ - /.test(line));
  return message ? `\n       → ${message.trim()}` : '';
}

/** restyle-a-photo's photo: astronaut.png, or a one-line reason why there is none. */
function photo(): string {
  try {
    return astronautPhoto();
  } catch (err) {
    throw new Error(`restyle-a-photo.ipynb needs scikit-image's astronaut.png (Debian's python3-skimage), which could not be installed: ${(err as Error).message.split('\n')[0]}`);
  }
}

function notebookOf(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source })),
    metadata: { kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' } },
    nbformat: 4, nbformat_minor: 5,
  });
}

function main(): void {
  const selfTest = process.argv.includes('--self-test');
  ensureJupyter();
  const work = mkdtempSync(join(tmpdir(), 'ganvec-notebooks-'));
  try {
    const jupyterPath = installKernel(join(work, 'kernel'));
    const outDir = join(work, 'executed');
    const project = userProject(join(work, 'project'));
    if (selfTest) {
      const broken = join(work, 'broken.ipynb');
      writeFileSync(broken, notebookOf(["import * as tslab from 'tslab';", "throw new Error('a deliberately broken cell');", 'tslab.display.png(new Uint8Array(0));']));
      const silent = join(work, 'silent.ipynb');
      writeFileSync(silent, notebookOf(["import * as tslab from 'tslab';\nif (Date.now() < 0) tslab.display.png(new Uint8Array(0));"]));
      const env = notebookEnv(jupyterPath, project);
      const caught = [execute(broken, env, outDir, project), execute(silent, env, outDir, project)];
      caught.forEach((p, i) => process.stdout.write(`self-test ${i === 0 ? 'broken cell' : 'missing image'}: ${p.join('; ') || 'NOT CAUGHT'}\n`));
      if (!/raised: .*a deliberately broken cell/.test(caught[0]!.join()) || !/shows 0 image/.test(caught[1]!.join())) process.exitCode = 1;
      return;
    }
    const notebooks = readdirSync(NOTEBOOKS).filter((f) => f.endsWith('.ipynb')).sort();
    const env = notebookEnv(jupyterPath, project, photo());
    let failed = 0;
    for (const name of notebooks) {
      const started = performance.now();
      const found = execute(join(NOTEBOOKS, name), env, outDir, project);
      const seconds = Math.round((performance.now() - started) / 1000);
      process.stdout.write(`${found.length ? 'FAIL' : 'ok  '} ${name} (${seconds} s)${found.map((p) => `\n     ${p}`).join('')}\n`);
      if (found.length) failed++;
    }
    if (notebooks.length === 0 || failed) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
