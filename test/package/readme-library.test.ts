/**
 * The README's library section in a fresh project, as a user follows it: `npm pack` this package, run the
 * README's install commands in an empty folder (the tarball in place of `ganvec`, npm's cache preferred),
 * and run the README's example with node, verbatim: both are read from the README, so they cannot drift
 * apart from what is tested. The example's registry names (`ffhq`, `ViT-B/32`) resolve through a registry
 * file (GANVEC_REGISTRY) that names the tiny test fixtures, put in the cache beforehand, offline.
 *
 * Not part of `npm test` (it installs onnxruntime-node, about 300 MB): `npm run test:package`, run by CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import sharp from 'sharp';
import { REPO } from '../helpers/cli.js';
import { GOLDENS } from '../helpers/golden.js';

const exec = promisify(execFile);

/** The fenced blocks of one language in the README's "### Library" section. */
function librarySection(readme: string): { install: string[]; example: string } {
  const section = /^### Library\n([\s\S]*?)^#{2,3} /m.exec(readme)?.[1];
  assert.ok(section, 'README.md has a "### Library" section');
  const block = (lang: string) => [...section.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);
  const [install] = block('sh');
  const [example] = block('ts');
  assert.ok(install && example, 'the Library section has an install (sh) block and an example (ts) block');
  return { install: install.split('\n').filter((line) => line.trim()), example };
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** A registry whose `ffhq` and `ViT-B/32` are the tiny fixtures, already in the cache at `home`. */
async function fixtureRegistry(dir: string, home: string): Promise<string> {
  const models = [
    { name: 'tiny-generator', aliases: ['ffhq'], kind: 'generator', format: 'rosinality-pt', resolution: 32, file: `${GOLDENS}sg2-tiny-a/ckpt.pt` },
    { name: 'tiny-clip', aliases: ['ViT-B/32'], kind: 'clip', format: 'openai-clip-jit', resolution: 32, file: `${GOLDENS}clip-tiny-a/clip_jit.pt` },
  ];
  const entries = [];
  for (const { file, ...model } of models) {
    await mkdir(join(home, model.kind), { recursive: true });
    await copyFile(file, join(home, model.kind, `${model.name}.pt`));
    entries.push({
      ...model, url: `https://example.invalid/${model.name}.pt`, mirrors: [], bytes: (await stat(file)).size, sha256: await sha256(file),
      licence: 'MIT (test fixture)', description: 'A tiny model made for the tests.',
    });
  }
  const registry = join(dir, 'registry.json');
  await writeFile(registry, JSON.stringify({ version: 1, models: entries }));
  return registry;
}

/** This process's environment without onnxruntime-node's install settings: the README's commands must give them. */
function withoutInstallSettings(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ONNXRUNTIME_NODE_INSTALL')));
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-package-'));
});
after(() => rm(dir, { recursive: true, force: true }));

it("the README's library example runs verbatim in a fresh project that installed the packed tarball as the README says", { timeout: 300_000 }, async () => {
  const { install, example } = librarySection(await readFile(join(REPO, 'README.md'), 'utf8'));
  const { stdout: packed } = await exec('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: REPO });
  const tarball = join(dir, packed.trim().split('\n').pop()!);

  const project = join(dir, 'project');
  await mkdir(project);
  for (const line of install) {
    // The one change to the README's commands: the tarball for the registry's `ganvec`, npm's cache first.
    const command = line.replace(/\bnpm install ganvec$/, `npm install ${JSON.stringify(tarball)} --prefer-offline --no-audit --no-fund`);
    assert.ok(line === command || /npm install ganvec$/.test(line), line);
    await exec('sh', ['-c', command], { cwd: project, env: { ...withoutInstallSettings(), npm_config_loglevel: 'error' } });
  }
  const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as { type?: string; dependencies?: Record<string, string> };
  assert.equal(pkg.type, 'module');
  assert.ok(pkg.dependencies?.ganvec, 'ganvec is a dependency of the project');

  // The example is TypeScript that is also JavaScript: it type-checks against the installed package's types
  // (strict, as a user's project would be) and runs in plain node.
  await writeFile(join(project, 'example.ts'), example);
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true,
      typeRoots: [join(REPO, 'node_modules/@types')], types: ['node'],
    },
    files: ['example.ts'],
  }));
  await exec(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', project]).catch((err: { stdout: string }) => {
    throw new Error(`the README's example does not type-check against the installed package:\n${err.stdout}`);
  });
  await writeFile(join(project, 'example.js'), example);
  const home = join(dir, 'home');
  const env = { ...process.env, GANVEC_HOME: home, GANVEC_REGISTRY: await fixtureRegistry(dir, home), GANVEC_OFFLINE: '1' };
  const { stdout } = await exec(process.execPath, ['example.js'], { cwd: project, env, maxBuffer: 1 << 24 });

  // onStep printed each step and its loss; the domain file and the grid were written.
  const steps = stdout.trim().split('\n').map((line) => line.split(' ').map(Number));
  assert.deepEqual(steps.map(([step]) => step), Array.from({ length: steps.length }, (_, i) => i + 1));
  assert.ok(steps.length >= 1 && steps.every(([, loss]) => Number.isFinite(loss)), stdout.slice(0, 500));
  assert.ok((await stat(join(project, 'pixar.dv.safetensors'))).size > 0);
  const grid = await sharp(join(project, 'pixar.png')).metadata();
  assert.deepEqual([grid.width, grid.height], [2 + 4 * (32 + 2), 2 + 32 + 2]);
});
