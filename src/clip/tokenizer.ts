/**
 * CLIP's text tokenizer, giving the ids that openai/CLIP's `clip.tokenize` gives: the same cleaning
 * (ftfy.fix_text, html.unescape twice, whitespace collapse, lowercase), the same split into pieces,
 * byte-level BPE over the released vocabulary, and the same start/end wrapping with zero padding.
 *
 * Where this differs from the reference (see test/fixtures/tokenizer/README.md for what is checked):
 * - ftfy's mojibake repair (`fix_encoding`: UTF-8 that was decoded as Latin-1, Windows-125x, MacRoman or
 *   cp437, like "cafÃ©") is not reproduced; such text tokenizes as written. ftfy acts there only when its
 *   badness heuristic flags the text, which ordinary prompts rarely do (a differential fuzz found it
 *   firing on odd neighbours such as "é" before U+FFFD or "ß" before "œ").
 * - ftfy also cuts lines longer than a million characters into pieces; that cannot change the first 77
 *   tokens of any realistic text, so lines are taken whole.
 * - HTML named references: the HTML 4 set plus `&apos;` and the all-caps HTML5 aliases of it (`&AMP;`,
 *   `&TRADE;` …), not all 2,231 HTML5 names. Numeric references (decimal, hex, the invalid ones HTML maps
 *   to Windows-1252 or U+FFFD) follow Python's `html.unescape` exactly.
 * - Unicode tables are Node's (ICU); they differ from Python's only on characters assigned recently.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Tensor } from '../core/tensor.js';

export const START_OF_TEXT = 49406;
export const END_OF_TEXT = 49407;
/** Tokens per text, start and end included, in every released CLIP model. */
export const CONTEXT_LENGTH = 77;

// ---------------------------------------------------------------------------------------------------
// Cleaning

/**
 * The text the way the reference hands it to the split regex: ftfy-fixed, HTML-unescaped twice, runs of
 * whitespace made one space, stripped, lowercased.
 */
export function cleanText(text: string): string {
  return unescapeHtml(unescapeHtml(fixText(text)))
    .replace(WHITESPACE_RUN, ' ')
    .replace(EDGE_SPACE, '')
    .toLowerCase();
}

/**
 * Python's `regex` module's `\s` (what the reference collapses and splits on). Unlike JavaScript's `\s`
 * it includes U+0085 and excludes U+FEFF.
 */
const PYTHON_WHITESPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${PYTHON_WHITESPACE}]+`, 'gu');
// After the collapse only a single space can sit at either end.
const EDGE_SPACE = /^ | $/g;

/**
 * ftfy 6's `fix_text` without mojibake repair. It fixes each line on its own, repeating its fixes until
 * the line stops changing. A `<` marks the text as HTML whose entities must stay: from that line on,
 * ftfy's own entity decoding is off (its config is replaced for the rest of the loop, not restored).
 */
function fixText(text: string): string {
  let decodeEntities = true;
  let fixed = '';
  for (const line of text.split(/(?<=\n)/)) {
    if (line.includes('<')) decodeEntities = false;
    fixed += fixLine(line, decodeEntities);
  }
  return fixed;
}

function fixLine(line: string, decodeEntities: boolean): string {
  let text = line;
  for (;;) {
    const before = text;
    if (decodeEntities) text = text.replace(FTFY_ENTITY, decodeFtfyEntity);
    text = text
      .replace(C1_CONTROL, (c) => WINDOWS_1252_C1.charAt(c.charCodeAt(0) - 0x80))
      .replace(LATIN_LIGATURE, (c) => LATIN_LIGATURES[c])
      .replace(WIDTH_VARIANT, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')))
      .replace(CURLY_DOUBLE_QUOTE, '"')
      .replace(CURLY_SINGLE_QUOTE, "'")
      .replace(LINE_BREAK, '\n')
      .replace(LONE_SURROGATE, '\ufffd')
      .replace(TERMINAL_ESCAPE, '')
      .replace(INVISIBLE_CONTROL, '')
      .normalize('NFC');
    if (text === before) return text;
  }
}

const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;
const C1_CONTROL = /[\x80-\x9f]/g;
/** Bytes 0x80–0x9F in Windows-1252; the five it leaves undefined stay the C1 control of that number. */
const WINDOWS_1252_C1 =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';
const LATIN_LIGATURE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;
const LATIN_LIGATURES: Record<string, string> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn',
  '\u01c4': 'D\u017d', '\u01c5': 'D\u017e', '\u01c6': 'd\u017e', '\u01c7': 'LJ', '\u01c8': 'Lj', '\u01c9': 'lj',
  '\u01ca': 'NJ', '\u01cb': 'Nj', '\u01cc': 'nj', '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz',
  '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': '\u017ft', '\ufb06': 'st',
};
/** Ideographic space and the halfwidth/fullwidth forms block. */
const WIDTH_VARIANT = /[\u3000\uff01-\uffef]/g;
const CURLY_DOUBLE_QUOTE = /[\u201c-\u201f]/g;
const CURLY_SINGLE_QUOTE = /[\u02bc\u2018-\u201b]/g;
const LINE_BREAK = /\r\n|[\r\u2028\u2029\x85]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Python's `\d` is any decimal digit, hence \p{Nd}.
const TERMINAL_ESCAPE = /\x1b\[(?:\p{Nd}|;)*[a-zA-Z]/gu;
const INVISIBLE_CONTROL = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

/** ftfy decodes only complete `&name;`/`&#n;` references, so "this&not that" keeps its "&not". */
function decodeFtfyEntity(reference: string): string {
  const named = ftfyEntities().get(reference);
  if (named !== undefined) return named;
  if (!reference.startsWith('&#')) return reference;
  const decoded = unescapeHtml(reference);
  // html.unescape stopping before the semicolon ("&#65a;") is a partial decode ftfy refuses.
  return decoded.includes(';') ? reference : decoded;
}

/** Python's `html.unescape`: HTML5 character-reference rules, including references without a semicolon. */
function unescapeHtml(text: string): string {
  return text.replace(CHARACTER_REFERENCE, (_match, reference: string) =>
    reference.startsWith('#') ? decodeNumericReference(reference) : decodeNamedReference(reference),
  );
}

const CHARACTER_REFERENCE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function decodeNumericReference(reference: string): string {
  const hex = reference[1] === 'x' || reference[1] === 'X';
  const code = parseInt(reference.slice(hex ? 2 : 1), hex ? 16 : 10); // stops at the ';'
  if (code === 0) return '\ufffd';
  if (code === 0x0d) return '\r';
  if (code >= 0x80 && code <= 0x9f) return WINDOWS_1252_C1.charAt(code - 0x80);
  if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return '\ufffd';
  if (isForbiddenReference(code)) return '';
  return String.fromCodePoint(code);
}

/** Controls and noncharacters that a numeric reference decodes to nothing. */
function isForbiddenReference(code: number): boolean {
  return (
    (code >= 0x01 && code <= 0x08) ||
    code === 0x0b ||
    (code >= 0x0e && code <= 0x1f) ||
    code === 0x7f ||
    (code >= 0xfdd0 && code <= 0xfdef) ||
    (code & 0xfffe) === 0xfffe
  );
}

function decodeNamedReference(reference: string): string {
  const references = namedReferences();
  const whole = references.get(reference);
  if (whole !== undefined) return whole;
  // The longest known prefix wins, as HTML does for "&notit;" → "¬it;". Only the semicolon-less legacy
  // names can match here, and they are ASCII, so code-point slicing finds what Python's slicing finds.
  const chars = Array.from(reference);
  for (let end = chars.length - 1; end > 1; end--) {
    const prefix = references.get(chars.slice(0, end).join(''));
    if (prefix !== undefined) return prefix + chars.slice(end).join('');
  }
  return `&${reference}`;
}

/**
 * `name codepoint` pairs: the HTML 4 entities with their HTML5 values (`lang`/`rang` are ⟨⟩ now),
 * `apos`, and the all-caps HTML5 aliases AMP COPY GT LT QUOT REG TRADE.
 */
const ENTITY_NAMES = `
QUOT 34 quot 34 AMP 38 amp 38 apos 39 LT 60 lt 60 GT 62 gt 62 nbsp 160 iexcl 161 cent 162 pound 163 curren
164 yen 165 brvbar 166 sect 167 uml 168 COPY 169 copy 169 ordf 170 laquo 171 not 172 shy 173 REG 174 reg 174
macr 175 deg 176 plusmn 177 sup2 178 sup3 179 acute 180 micro 181 para 182 middot 183 cedil 184 sup1 185
ordm 186 raquo 187 frac14 188 frac12 189 frac34 190 iquest 191 Agrave 192 Aacute 193 Acirc 194 Atilde 195
Auml 196 Aring 197 AElig 198 Ccedil 199 Egrave 200 Eacute 201 Ecirc 202 Euml 203 Igrave 204 Iacute 205 Icirc
206 Iuml 207 ETH 208 Ntilde 209 Ograve 210 Oacute 211 Ocirc 212 Otilde 213 Ouml 214 times 215 Oslash 216
Ugrave 217 Uacute 218 Ucirc 219 Uuml 220 Yacute 221 THORN 222 szlig 223 agrave 224 aacute 225 acirc 226
atilde 227 auml 228 aring 229 aelig 230 ccedil 231 egrave 232 eacute 233 ecirc 234 euml 235 igrave 236
iacute 237 icirc 238 iuml 239 eth 240 ntilde 241 ograve 242 oacute 243 ocirc 244 otilde 245 ouml 246 divide
247 oslash 248 ugrave 249 uacute 250 ucirc 251 uuml 252 yacute 253 thorn 254 yuml 255 OElig 338 oelig 339
Scaron 352 scaron 353 Yuml 376 fnof 402 circ 710 tilde 732 Alpha 913 Beta 914 Gamma 915 Delta 916 Epsilon
917 Zeta 918 Eta 919 Theta 920 Iota 921 Kappa 922 Lambda 923 Mu 924 Nu 925 Xi 926 Omicron 927 Pi 928 Rho 929
Sigma 931 Tau 932 Upsilon 933 Phi 934 Chi 935 Psi 936 Omega 937 alpha 945 beta 946 gamma 947 delta 948
epsilon 949 zeta 950 eta 951 theta 952 iota 953 kappa 954 lambda 955 mu 956 nu 957 xi 958 omicron 959 pi 960
rho 961 sigmaf 962 sigma 963 tau 964 upsilon 965 phi 966 chi 967 psi 968 omega 969 thetasym 977 upsih 978
piv 982 ensp 8194 emsp 8195 thinsp 8201 zwnj 8204 zwj 8205 lrm 8206 rlm 8207 ndash 8211 mdash 8212 lsquo
8216 rsquo 8217 sbquo 8218 ldquo 8220 rdquo 8221 bdquo 8222 dagger 8224 Dagger 8225 bull 8226 hellip 8230
permil 8240 prime 8242 Prime 8243 lsaquo 8249 rsaquo 8250 oline 8254 frasl 8260 euro 8364 image 8465 weierp
8472 real 8476 TRADE 8482 trade 8482 alefsym 8501 larr 8592 uarr 8593 rarr 8594 darr 8595 harr 8596 crarr
8629 lArr 8656 uArr 8657 rArr 8658 dArr 8659 hArr 8660 forall 8704 part 8706 exist 8707 empty 8709 nabla
8711 isin 8712 notin 8713 ni 8715 prod 8719 sum 8721 minus 8722 lowast 8727 radic 8730 prop 8733 infin 8734
ang 8736 and 8743 or 8744 cap 8745 cup 8746 int 8747 there4 8756 sim 8764 cong 8773 asymp 8776 ne 8800 equiv
8801 le 8804 ge 8805 sub 8834 sup 8835 nsub 8836 sube 8838 supe 8839 oplus 8853 otimes 8855 perp 8869 sdot
8901 lceil 8968 rceil 8969 lfloor 8970 rfloor 8971 loz 9674 spades 9824 clubs 9827 hearts 9829 diams 9830
lang 10216 rang 10217`;

/** HTML still accepts these without the semicolon: the Latin-1 entities and the four markup ones. */
const SEMICOLON_OPTIONAL_ASCII = new Set(['amp', 'lt', 'gt', 'quot', 'AMP', 'LT', 'GT', 'QUOT']);

let namedReferenceTable: Map<string, string> | undefined;

/** `name;` → text for every entity, plus bare `name` for those usable without a semicolon. */
function namedReferences(): Map<string, string> {
  if (namedReferenceTable === undefined) {
    namedReferenceTable = new Map();
    const fields = ENTITY_NAMES.trim().split(/\s+/);
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i];
      const code = Number(fields[i + 1]);
      const char = String.fromCodePoint(code);
      namedReferenceTable.set(`${name};`, char);
      if ((code >= 0xa0 && code <= 0xff) || SEMICOLON_OPTIONAL_ASCII.has(name)) namedReferenceTable.set(name, char);
    }
  }
  return namedReferenceTable;
}

let ftfyEntityTable: Map<string, string> | undefined;

/**
 * ftfy's entity table: `&name;` for each named reference, plus the all-caps spelling of each lower-case
 * name (`&EACUTE;` → É, `&SZLIG;` → SS) where that spelling is not an entity of its own.
 */
function ftfyEntities(): Map<string, string> {
  if (ftfyEntityTable === undefined) {
    ftfyEntityTable = new Map();
    for (const [name, char] of namedReferences()) {
      if (!name.endsWith(';')) continue;
      ftfyEntityTable.set(`&${name}`, char);
      const shouted = `&${name.toUpperCase()}`;
      if (name === name.toLowerCase() && unescapeHtml(shouted) === shouted) {
        ftfyEntityTable.set(shouted, char.toUpperCase());
      }
    }
  }
  return ftfyEntityTable;
}

// ---------------------------------------------------------------------------------------------------
// Splitting into pieces

/**
 * CLIP's split: the special-token literals, English contractions, letter runs, single digits, runs of
 * anything else. The reference compiles it with IGNORECASE, under which Python's `regex` puts U+0345
 * (combining ypogegrammeni, whose case fold is the letter ι) in no class: it is dropped and splits words.
 */
const PIECE = new RegExp(
  "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}" +
    `|[^${PYTHON_WHITESPACE}\\p{L}\\p{N}\\u0345]+`,
  'gu',
);

// ---------------------------------------------------------------------------------------------------
// Vocabulary and byte-pair encoding

const VOCABULARY_URL = new URL('../../data/bpe_simple_vocab_16e6.txt.gz', import.meta.url);
/** The reference reads merges from `lines[1 : 49152-256-2+1]`: 48,894 merges after the header line. */
const MERGE_COUNT = 49152 - 256 - 2;
const END_OF_WORD = '</w>';
const SPECIAL_IDS = new Map([
  ['<|startoftext|>', START_OF_TEXT],
  ['<|endoftext|>', END_OF_TEXT],
]);

/**
 * One printable character per byte, so BPE symbols never contain whitespace or controls: printable
 * Latin-1 bytes stand for themselves, the other 68 bytes take U+0100… in byte order.
 */
const BYTE_SYMBOLS: readonly string[] = (() => {
  const symbols: string[] = [];
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
    symbols.push(String.fromCharCode(printable ? byte : 0x100 + shifted++));
  }
  return symbols;
})();
const BYTE_OF_SYMBOL = new Map(BYTE_SYMBOLS.map((symbol, byte) => [symbol, byte]));

interface Vocabulary {
  idOf: Map<string, number>;
  symbolOf: string[];
  /** `left right` → merge priority, lower first. */
  mergeRank: Map<string, number>;
  /** Piece → ids; bounded, unlike the reference's, because a server may see endless distinct words. */
  cache: Map<string, number[]>;
}

const MAX_CACHED_PIECES = 50_000;
let loadedVocabulary: Vocabulary | undefined;

function vocabulary(): Vocabulary {
  if (loadedVocabulary === undefined) {
    const lines = gunzipSync(readFileSync(VOCABULARY_URL)).toString('utf8').split('\n');
    const merges = lines.slice(1, 1 + MERGE_COUNT).map((line) => line.split(' ') as [string, string]);
    // Ids: the byte symbols (ordered by code point, which is the reference's order), the same with the
    // end-of-word mark, one per merge result, then the two special tokens.
    const bytes = [...BYTE_SYMBOLS].sort();
    const symbolOf = [
      ...bytes,
      ...bytes.map((s) => s + END_OF_WORD),
      ...merges.map(([left, right]) => left + right),
      ...SPECIAL_IDS.keys(),
    ];
    loadedVocabulary = {
      idOf: new Map(symbolOf.map((symbol, id) => [symbol, id])),
      symbolOf,
      mergeRank: new Map(merges.map(([left, right], rank) => [`${left} ${right}`, rank])),
      cache: new Map(),
    };
  }
  return loadedVocabulary;
}

const utf8 = new TextEncoder();

function idsOfPiece(piece: string, vocab: Vocabulary): number[] {
  const special = SPECIAL_IDS.get(piece);
  if (special !== undefined) return [special];
  const cached = vocab.cache.get(piece);
  if (cached !== undefined) return cached;
  const symbols = Array.from(utf8.encode(piece), (byte) => BYTE_SYMBOLS[byte]);
  symbols[symbols.length - 1] += END_OF_WORD;
  const ids = mergeSymbols(symbols, vocab.mergeRank).map((symbol) => vocab.idOf.get(symbol) as number);
  if (vocab.cache.size >= MAX_CACHED_PIECES) vocab.cache.clear();
  vocab.cache.set(piece, ids);
  return ids;
}

/** Repeatedly merges every occurrence, left to right, of the adjacent pair with the best rank. */
function mergeSymbols(start: string[], mergeRank: Map<string, number>): string[] {
  let word = start;
  while (word.length > 1) {
    let bestRank = Infinity;
    let left = '';
    let right = '';
    for (let i = 0; i + 1 < word.length; i++) {
      const rank = mergeRank.get(`${word[i]} ${word[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        left = word[i];
        right = word[i + 1];
      }
    }
    if (bestRank === Infinity) break;
    const merged: string[] = [];
    for (let i = 0; i < word.length; i++) {
      if (word[i] === left && word[i + 1] === right) {
        merged.push(left + right);
        i++;
      } else {
        merged.push(word[i]);
      }
    }
    word = merged;
  }
  return word;
}

// ---------------------------------------------------------------------------------------------------
// Public API

/** Token ids of one text, without the start and end tokens (the reference's `SimpleTokenizer.encode`). */
export function encode(text: string): number[] {
  const vocab = vocabulary();
  const ids: number[] = [];
  for (const [piece] of cleanText(text).matchAll(PIECE)) ids.push(...idsOfPiece(piece, vocab));
  return ids;
}

/**
 * Text of token ids, as the reference's `decode` gives it: bytes decoded as UTF-8 with U+FFFD for broken
 * sequences, each end-of-word mark turned into a space, special and padding ids (0 is "!") kept as text.
 */
export function decode(ids: Iterable<number | bigint>): string {
  const { symbolOf } = vocabulary();
  const bytes: number[] = [];
  for (const id of ids) {
    const symbol = symbolOf[Number(id)];
    if (symbol === undefined) {
      throw new RangeError(`decode: ${id} is not a CLIP token id (0 to ${symbolOf.length - 1})`);
    }
    for (const char of symbol) bytes.push(BYTE_OF_SYMBOL.get(char) as number);
  }
  // ignoreBOM keeps a leading U+FEFF, as Python's decoder does.
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes)).replaceAll(END_OF_WORD, ' ');
}

export interface TokenizeOptions {
  /** Tokens per text, start and end included. Default 77, the context of every released CLIP model. */
  contextLength?: number;
  /** Cut a text that does not fit instead of throwing; its last kept token is then the end token. */
  truncate?: boolean;
}

/** A text whose ids, with the start and end tokens, do not fit the context and truncation was not asked for. */
export class TextTooLongError extends Error {
  constructor(
    /** Position of the text in the batch, from 0. */
    readonly textIndex: number,
    readonly textCount: number,
    /** Ids including the start and end tokens. */
    readonly tokenCount: number,
    readonly contextLength: number,
    text: string,
  ) {
    const preview = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
    const which = textCount > 1 ? `text ${textIndex + 1} of ${textCount}` : 'the text';
    super(
      `${which} (${preview}) has ${tokenCount} tokens counting the start and end tokens, ` +
        `more than the context length of ${contextLength}`,
    );
    this.name = 'TextTooLongError';
  }
}

/**
 * `clip.tokenize`: each text as `[49406, …ids, 49407]` zero-padded to the context length, as an int64
 * tensor of shape [texts, contextLength] ready to feed a text encoder.
 * @throws TextTooLongError when a text does not fit and `truncate` is not set.
 */
export function tokenize(texts: string | readonly string[], options: TokenizeOptions = {}): Tensor<BigInt64Array> {
  const { contextLength = CONTEXT_LENGTH, truncate = false } = options;
  if (!Number.isInteger(contextLength) || contextLength < 1) {
    throw new RangeError(`tokenize: contextLength must be a positive integer, got ${contextLength}`);
  }
  const batch = typeof texts === 'string' ? [texts] : texts;
  const data = new BigInt64Array(batch.length * contextLength);
  batch.forEach((text, row) => {
    let ids = [START_OF_TEXT, ...encode(text), END_OF_TEXT];
    if (ids.length > contextLength) {
      if (!truncate) throw new TextTooLongError(row, batch.length, ids.length, contextLength, text);
      ids = ids.slice(0, contextLength);
      ids[contextLength - 1] = END_OF_TEXT;
    }
    ids.forEach((id, column) => {
      data[row * contextLength + column] = BigInt(id);
    });
  });
  return { data, shape: [batch.length, contextLength] };
}
