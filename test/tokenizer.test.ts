import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readNpy } from '../src/io/npy.js';
import { runCli } from './helpers/cli.js';
import {
  CONTEXT_LENGTH,
  END_OF_TEXT,
  START_OF_TEXT,
  TextTooLongError,
  cleanText,
  decode,
  encode,
  tokenize,
} from '../src/clip/tokenizer.js';

const goldenDir = fileURLToPath(new URL('./fixtures/goldens/clip-tiny-a/', import.meta.url));

/** What openai/CLIP gave for each text; see test/fixtures/tokenizer/README.md. */
interface ReferenceCase {
  name: string;
  text: string;
  /** `whitespace_clean(basic_clean(text)).lower()` */
  cleaned: string;
  /** `SimpleTokenizer.encode(text)` */
  encoded: number[];
  /** `SimpleTokenizer.decode(encoded)` */
  decoded: string;
  /** `clip.tokenize(text)[0]`, or null where it raised "too long" */
  tokens: number[] | null;
  /** `clip.tokenize(text, truncate=True)[0]` */
  truncated: number[];
}

interface Reference {
  contextLength: number;
  cases: ReferenceCase[];
  decodeCases: Array<{ ids: number[]; text: string }>;
}

const reference = JSON.parse(
  readFileSync(new URL('./fixtures/tokenizer/reference-ids.json', import.meta.url), 'utf8'),
) as Reference;

function referenceCase(name: string): ReferenceCase {
  const found = reference.cases.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no reference case named "${name}"`);
  return found;
}

const longCase = referenceCase('long text, 200 words');

function rows(t: { data: BigInt64Array; shape: number[] }): number[][] {
  const [count, length] = t.shape;
  return Array.from({ length: count }, (_, i) => Array.from(t.data.subarray(i * length, (i + 1) * length), Number));
}

describe('tokenize matches the clip-tiny-a golden', () => {
  it('gives the ids of clip.tokenize for the 8 manifest texts', async () => {
    const manifest = JSON.parse(readFileSync(`${goldenDir}manifest.json`, 'utf8')) as { texts: string[] };
    const golden = await readNpy(`${goldenDir}tokens.npy`);
    assert.ok(golden.data instanceof BigInt64Array);
    assert.deepEqual(golden.shape, [8, 77]);
    const ours = tokenize(manifest.texts);
    assert.deepEqual(ours.shape, golden.shape);
    assert.deepEqual(ours.data, golden.data);
  });
});

describe('tokenizer matches openai/CLIP on the reference texts', () => {
  it('the reference used the default context length', () => {
    assert.equal(reference.contextLength, CONTEXT_LENGTH);
  });

  for (const c of reference.cases) {
    it(c.name, () => {
      assert.equal(cleanText(c.text), c.cleaned, 'cleaned text');
      assert.deepEqual(encode(c.text), c.encoded, 'encode');
      assert.equal(decode(c.encoded), c.decoded, 'decode');
      if (c.tokens === null) {
        assert.throws(() => tokenize(c.text), TextTooLongError);
      } else {
        assert.deepEqual(rows(tokenize(c.text)), [c.tokens], 'tokenize');
      }
      assert.deepEqual(rows(tokenize(c.text, { truncate: true })), [c.truncated], 'tokenize with truncate');
    });
  }

  it('tokenizes all the texts that fit in one batch', () => {
    const fitting = reference.cases.filter((c) => c.tokens !== null);
    const batch = tokenize(fitting.map((c) => c.text));
    assert.deepEqual(batch.shape, [fitting.length, 77]);
    assert.deepEqual(rows(batch), fitting.map((c) => c.tokens));
  });

  it('decodes id sequences, including cut multi-byte characters and padding', () => {
    for (const { ids, text } of reference.decodeCases) assert.equal(decode(ids), text, `decode ${ids}`);
  });
});

describe('too-long texts', () => {
  it('names the text, its token count and the limit', () => {
    const tokenCount = longCase.encoded.length + 2;
    assert.ok(tokenCount > 77);
    assert.throws(
      () => tokenize(['a photo', longCase.text]),
      (err: unknown) => {
        assert.ok(err instanceof TextTooLongError);
        assert.equal(err.textIndex, 1);
        assert.equal(err.tokenCount, tokenCount);
        assert.equal(err.contextLength, 77);
        assert.match(err.message, /^text 2 of 2 \("In the quiet harbor town/);
        assert.match(err.message, new RegExp(`has ${tokenCount} tokens .*context length of 77`));
        return true;
      },
    );
  });

  it('with truncate keeps the first 76 ids and ends with the end token', () => {
    const [row] = rows(tokenize(longCase.text, { truncate: true }));
    assert.deepEqual(row, [START_OF_TEXT, ...longCase.encoded.slice(0, 75), END_OF_TEXT]);
  });
});

describe('contextLength', () => {
  const prompt = referenceCase('prompt');
  const needed = prompt.encoded.length + 2;

  it('pads to the asked length and fails one short of the text', () => {
    const [row] = rows(tokenize(prompt.text, { contextLength: needed + 2 }));
    assert.deepEqual(row, [START_OF_TEXT, ...prompt.encoded, END_OF_TEXT, 0, 0]);
    assert.deepEqual(rows(tokenize(prompt.text, { contextLength: needed })), [row.slice(0, needed)]);
    const oneShort = needed - 1;
    assert.throws(() => tokenize(prompt.text, { contextLength: oneShort }), new RegExp(`context length of ${oneShort}$`));
  });

  it('truncates to the asked length', () => {
    const [row] = rows(tokenize(prompt.text, { contextLength: 5, truncate: true }));
    assert.deepEqual(row, [START_OF_TEXT, ...prompt.encoded.slice(0, 3), END_OF_TEXT]);
  });

  it('must be a positive integer', () => {
    for (const contextLength of [0, -1, 7.5, NaN]) {
      assert.throws(() => tokenize('a', { contextLength }), RangeError);
    }
  });
});

const aPhoto = reference.decodeCases[0]; // "a photo" with its start and end tokens

describe('decode', () => {
  it('takes the bigint ids of a tokenize row', () => {
    const { data } = tokenize('a photo');
    assert.equal(decode(data.subarray(0, aPhoto.ids.length)), aPhoto.text);
  });

  it('rejects ids outside the vocabulary', () => {
    assert.throws(() => decode([49408]), /49408 is not a CLIP token id/);
  });
});

describe('ganvec tokenize', () => {
  const ganvec = (...args: string[]) => runCli(['tokenize', ...args]);
  const shown = ['contractions', 'Chinese', 'emoji sequences'].map(referenceCase);

  it('--json prints one zero-padded array per text', async () => {
    const run = await ganvec('--json', ...shown.map((c) => c.text));
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), shown.map((c) => c.tokens));
  });

  it('prints one line of ids per text without the padding', async () => {
    const run = await ganvec(...shown.map((c) => c.text));
    assert.equal(run.code, 0, run.stderr);
    const expected = shown.map((c) => [START_OF_TEXT, ...c.encoded, END_OF_TEXT].join(' '));
    assert.deepEqual(run.stdout.split('\n'), [...expected, '']);
  });

  it('fails on a too-long text with its token count and the way out', async () => {
    const run = await ganvec('--json', 'a photo', longCase.text);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    const tokenCount = longCase.encoded.length + 2;
    assert.match(run.stderr, new RegExp(`^ganvec: text 2 of 2 .* has ${tokenCount} tokens .*context length of 77`));
    assert.match(run.stderr, /; shorten it or pass --truncate\n$/);
  });

  it('--truncate cuts the too-long text', async () => {
    const run = await ganvec('--json', '--truncate', longCase.text);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), [longCase.truncated]);
  });

  it('--context-length changes the row length and is checked', async () => {
    const ok = await ganvec('--json', '--context-length', '8', 'a photo');
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), [[...aPhoto.ids, 0, 0, 0, 0]]);
    const bad = await ganvec('--context-length', 'many', 'a photo');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ganvec: --context-length: expected a whole number, got "many"$/m);
  });
});
