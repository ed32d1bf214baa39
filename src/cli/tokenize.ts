// `ganvec tokenize`: prints CLIP token ids, to check what a prompt becomes or to feed other tools.
import type { Command } from 'commander';
import { CONTEXT_LENGTH, END_OF_TEXT, START_OF_TEXT, TextTooLongError, tokenize } from '../index.js';
import { integerIn } from './options.js';
import { UsageError } from './run.js';

interface TokenizeFlags {
  truncate?: boolean;
  json?: boolean;
  contextLength: number;
}

export function registerTokenize(program: Command): void {
  program
    .command('tokenize')
    .description(
      'Print the CLIP token ids of each text, as openai/CLIP clip.tokenize gives them: ' +
        `${START_OF_TEXT} (start), the text's ids, ${END_OF_TEXT} (end), zero padding.`,
    )
    .argument('<texts...>', 'one or more texts; quote each one')
    .option('--truncate', `cut a text that is too long, ending it with ${END_OF_TEXT}, instead of failing`)
    .option('--json', 'print a JSON array with one zero-padded array of ids per text')
    .option('--context-length <n>', 'ids per text, start and end included', integerIn({ min: 1 }), CONTEXT_LENGTH)
    .addHelpText(
      'after',
      `
Without --json, each text gets one line of space-separated ids, without the zero padding.
A text that does not fit the context is an error unless --truncate is given.
Put -- before texts that start with a dash.

Examples:
  ganvec tokenize "a photo of a cat"           # prints 49406 320 1125 539 320 2368 49407
  ganvec tokenize --json "pixar style" "a sketch"`,
    )
    .action((texts: string[], flags: TokenizeFlags) => {
      const ids = tokenizeForCli(texts, flags.contextLength, flags.truncate === true);
      process.stdout.write(flags.json ? formatJson(ids) : formatLines(ids));
    });
}

/** One array of ids per text, padded to the context length. */
function tokenizeForCli(texts: string[], contextLength: number, truncate: boolean): number[][] {
  try {
    const { data } = tokenize(texts, { contextLength, truncate });
    return texts.map((_, i) => Array.from(data.subarray(i * contextLength, (i + 1) * contextLength), Number));
  } catch (err) {
    if (err instanceof TextTooLongError) throw new UsageError(`${err.message}; shorten it or pass --truncate`);
    throw err;
  }
}

function formatJson(rows: number[][]): string {
  return `[\n${rows.map((row) => `  ${JSON.stringify(row)}`).join(',\n')}\n]\n`;
}

function formatLines(rows: number[][]): string {
  return rows.map((row) => `${withoutPadding(row).join(' ')}\n`).join('');
}

function withoutPadding(row: number[]): number[] {
  let end = row.length;
  while (end > 0 && row[end - 1] === 0) end--;
  return row.slice(0, end);
}
