/**
 * Option-value parsers shared by the ganvec commands, for commander's `.argParser()`. A bad value throws
 * commander's InvalidArgumentError, so the user gets one line naming the option and what was wrong with it.
 */
import { Help, InvalidArgumentError, Option, type HelpConfiguration } from 'commander';
import type { Device } from '../index.js';

/** NumPy's RandomState takes seeds in [0, 2³²). */
const MAX_SEED = 2 ** 32 - 1;
/** A range longer than this is a typo (`0-70000000`), not a request. */
const MAX_SEEDS = 100_000;

/** A comma-separated list with surrounding spaces trimmed: `a, b,c` → ['a', 'b', 'c']. Empty items are an error. */
export function commaList(text: string): string[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new InvalidArgumentError(`expected a comma-separated list without empty items, got "${text}"`);
  return items;
}

/** Seeds as NVIDIA's scripts take them: `0-7,10,12-13` (ranges inclusive). */
export function seedList(text: string): number[] {
  const seeds: number[] = [];
  for (const item of commaList(text)) {
    const range = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(item);
    if (!range) throw new InvalidArgumentError(`"${item}" is not a seed or a range of seeds (examples: 42, 0-7, 0-3,10)`);
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    if (last > MAX_SEED) throw new InvalidArgumentError(`seeds go from 0 to ${MAX_SEED} (NumPy's RandomState), got ${last}`);
    if (last < first) throw new InvalidArgumentError(`the range ${item} ends before it starts`);
    if (seeds.length + last - first + 1 > MAX_SEEDS) throw new InvalidArgumentError(`"${text}" asks for more than ${MAX_SEEDS} seeds`);
    for (let seed = first; seed <= last; seed++) seeds.push(seed);
  }
  return seeds;
}

export interface NumberBounds {
  min?: number;
  max?: number;
  /** Whether `min` itself is refused (e.g. strictly positive). */
  exclusiveMin?: boolean;
}

/** A parser for a finite number within bounds. */
export function numberIn(bounds: NumberBounds = {}): (text: string) => number {
  return (text) => checkBounds(parseFinite(text), text, bounds);
}

/** A parser for an integer within bounds. */
export function integerIn(bounds: NumberBounds = {}): (text: string) => number {
  return (text) => {
    // Digits only: `1e3` or `4.0` for a count is more likely a slip than a way of writing 1000 or 4.
    const value = /^\s*[-+]?\d+\s*$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(`expected a whole number, got "${text}"`);
    return checkBounds(value, text, bounds);
  };
}

/** A parser for a comma-separated list of finite numbers within bounds: `0.5,1,-0.25`. */
export function numberListIn(bounds: NumberBounds = {}): (text: string) => number[] {
  const one = numberIn(bounds);
  return (text) => commaList(text).map(one);
}

/** For options that may be given several times: `--domain a --domain b` → ['a', 'b']. */
export function repeatable(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseFinite(text: string): number {
  // Number('') is 0 and Number('0x10') is 16: accept decimal notation only.
  const value = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`expected a number, got "${text}"`);
  return value;
}

function checkBounds(value: number, text: string, { min, max, exclusiveMin = false }: NumberBounds): number {
  if (min !== undefined && (value < min || (exclusiveMin && value === min))) {
    throw new InvalidArgumentError(`must be ${exclusiveMin ? 'greater than' : 'at least'} ${min}, got ${text}`);
  }
  if (max !== undefined && value > max) throw new InvalidArgumentError(`must be at most ${max}, got ${text}`);
  return value;
}

/**
 * Flags that other tools spell differently, taken as the flag they stand for by every command: NVIDIA's
 * scripts (`--network`, `--trunc`, `--noise-mode`) and adapt's original `--from`.
 */
export const FLAG_ALIASES: Readonly<Record<string, string>> = {
  '--network': '--model', '--from': '--model', '--trunc': '--truncation', '--noise-mode': '--noise',
};

/** argv with each alias replaced by its flag, also in the `--alias=value` form. */
export function resolveAliases(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    const [flag, ...value] = arg.split('=');
    const canonical = FLAG_ALIASES[flag!];
    return canonical ? [canonical, ...value].join('=') : arg;
  });
}

/** CLIP models of HyperDomainNet's configs, for every command that takes `--clip`. */
export const DEFAULT_CLIP_MODELS = 'ViT-B/32,ViT-B/16';

/** `--device cpu|cuda`, shared by every command that runs a model. */
export function deviceOption(): Option {
  return new Option('--device <device>', 'where models run: cpu, or cuda (falls back to cpu with a warning when the CUDA provider is not installed)')
    .choices(['cpu', 'cuda'] satisfies Device[])
    .default('cpu');
}

/** `--model`, shared by every command that runs a generator. */
export function modelOption(): Option {
  return new Option('--model <generator>', 'generator: a registered name (see `ganvec models list`) or a checkpoint file (.pt, .pkl, .safetensors); --network or --from work too')
    .makeOptionMandatory();
}

/** `--threads`, shared by every command that runs a model. */
export function threadsOption(): Option {
  return new Option('--threads <n>', 'ONNX Runtime threads per model').argParser(integerIn({ min: 1 })).default(undefined, 'all cores');
}

/**
 * `--clip a,b`, shared by every command that runs CLIP: one or more registered names or checkpoint files.
 * Without `defaults` the flag is required.
 */
export function clipOption(defaults?: string): Option {
  const option = new Option('--clip <models>', 'CLIP models: comma-separated registered names (e.g. ViT-B/32) or checkpoint files').argParser(commaList);
  // commander shows a default as JSON: the text as it is typed, not the parsed list.
  return defaults === undefined ? option.makeOptionMandatory() : option.default(commaList(defaults), JSON.stringify(defaults));
}

/**
 * The help of every command shows a default as commander does, `(default: …)`, also when the value is only
 * known at run time and the option says so in words (`.default(undefined, 'all cores')`).
 */
export const HELP_CONFIGURATION: HelpConfiguration = {
  optionDescription(this: Help, option: Option): string {
    const text = Help.prototype.optionDescription.call(this, option);
    if (option.defaultValue !== undefined || option.defaultValueDescription === undefined) return text;
    return `${text} (default: ${option.defaultValueDescription})`;
  },
};
