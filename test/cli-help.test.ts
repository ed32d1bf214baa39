/**
 * Every command's --help, as one vocabulary: the shared flags wherever a model runs, defaults shown one
 * way, examples written one way. The commands are read from `ganvec --help`, so a new one is checked too.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { REPO } from './helpers/cli.js';

const run = promisify(execFile);

/** The built CLI (npm test builds first): a fraction of the start-up time of running it through tsx. */
async function help(command: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(REPO, 'dist/cli/main.js'), ...command, '--help'], { env: { ...process.env, GANVEC_OFFLINE: '1' } });
  return stdout;
}

/** The names listed under "Commands:", without commander's own `help`. */
function commandsIn(text: string): string[] {
  const section = (text.split(/^Commands:$/m)[1] ?? '').split(/^\S/m)[0]!;
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

/** Each option of the "Options:" section with its description, continuation lines joined. */
function optionsIn(text: string): Map<string, string> {
  const section = (text.split(/^Options:$/m)[1] ?? '').split(/^\S/m)[0]!;
  const options = new Map<string, string>();
  let current: string | undefined;
  for (const line of section.split('\n')) {
    const start = /^ {2}(?:-\w, )?(--[\w-]+)(?: [<[][^ ]+)?\s+(.*)$/.exec(line);
    if (start) options.set((current = start[1]!), start[2]!);
    else if (current && line.trim()) options.set(current, `${options.get(current)} ${line.trim()}`);
  }
  return options;
}

/** Commands that run a model in ONNX Runtime here: they take --threads and --device. */
const MODEL_RUNNERS = ['adapt', 'generate', 'eval', 'embed', 'project', 'stylize'];
/** Commands that take a generator (some only read it: import checks a file against it, export writes it out). */
const GENERATOR_COMMANDS = ['adapt', 'generate', 'eval', 'import', 'export onnx', 'serve-web', 'project', 'stylize'];
const CLIP_COMMANDS = ['adapt', 'eval', 'embed'];

describe('every command\'s --help', () => {
  const helps = new Map<string, string>();
  let top: string;
  before(async () => {
    top = await help([]);
    const names = commandsIn(top);
    const models = await help(['models']);
    const exporters = await help(['export']);
    const all = [...names.map((n) => [n]), ...commandsIn(models).map((n) => ['models', n]), ...commandsIn(exporters).map((n) => ['export', n])];
    await Promise.all(all.map(async (command) => helps.set(command.join(' '), await help(command))));
  });

  it('lists the commands it is expected to, the main job first', () => {
    assert.deepEqual(commandsIn(top).slice(0, 3), ['adapt', 'generate', 'eval']);
    for (const name of [...MODEL_RUNNERS, ...GENERATOR_COMMANDS, 'info', 'tokenize', 'models', 'models list', 'models download']) assert.ok(helps.has(name), name);
  });

  it('has --model, --threads and --device wherever a model runs, and a list of CLIP models wherever CLIP runs', () => {
    for (const [name, text] of helps) {
      const options = optionsIn(text);
      assert.equal(options.has('--model'), GENERATOR_COMMANDS.includes(name), `${name}: takes --model exactly when it is one of ${GENERATOR_COMMANDS.join(', ')}`);
      if (options.has('--model')) assert.match(options.get('--model')!, /--network or --from work too/, `${name} --model`);
      assert.equal(options.has('--clip'), CLIP_COMMANDS.includes(name), `${name} --clip`);
      const runsModel = MODEL_RUNNERS.includes(name);
      assert.equal(options.has('--threads') && options.has('--device'), runsModel, `${name}: --threads and --device exactly when it is one of ${MODEL_RUNNERS.join(', ')}`);
      if (!runsModel) continue;
      assert.match(options.get('--threads') ?? '', /ONNX Runtime threads per model \(default: all cores\)$/, `${name} --threads`);
      assert.match(options.get('--device') ?? '', /\(choices: "cpu", "cuda", default: "cpu"\)$/, `${name} --device`);
      if (options.has('--clip')) assert.match(text, /--clip <models> +CLIP models: comma-separated/, `${name} --clip`);
    }
  });

  it('shows every default as commander does, "(default: value)" at the end of the description, and no number in quotes', () => {
    for (const [name, text] of helps) {
      for (const [flag, description] of optionsIn(text)) {
        const mentions = description.match(/default/gi) ?? [];
        if (mentions.length === 0) continue;
        assert.equal(mentions.length, 1, `${name} ${flag}: one default: ${description}`);
        assert.match(description, /(\(|, )default: [^()]*(\([^()]*\)[^()]*)*\)$/, `${name} ${flag}: ${description}`);
        assert.doesNotMatch(description, /default: "[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?"/i, `${name} ${flag}: a number shown as a string`);
      }
      // Defaults named anywhere else in the help (the environment, the cache) read the same way.
      for (const mention of text.replace(/\s+/g, ' ').matchAll(/.{0,2}default\b.{0,2}/gi)) {
        assert.match(mention[0], /(\(|, )default: /, `${name}: "${mention[0]}"`);
      }
    }
  });

  it('has examples in one form: an "Examples:" section of `ganvec …` lines, on every top-level command', () => {
    for (const [name, text] of helps) {
      assert.doesNotMatch(text, /^\s*\$ /m, `${name}: no "$ " prompts`);
      const sections = text.split(/^Examples:$/m);
      if (!name.includes(' ')) assert.equal(sections.length, 2, `${name}: one Examples section`);
      if (sections.length < 2) continue;
      const lines = sections[1]!.split(/\n\n/)[0]!.split('\n').filter((l) => l.trim());
      assert.ok(lines.length >= 2, `${name}: at least two examples`);
      lines.forEach((line, i) => {
        const continued = i > 0 && lines[i - 1]!.endsWith('\\');
        assert.match(line, continued ? /^ {6}\S/ : /^ {2}ganvec [a-z]/, `${name}: ${line}`);
      });
      assert.ok(lines.some((l) => l.startsWith(`  ganvec ${name}`)), `${name}: an example of itself`);
    }
  });
});
