/**
 * Text that comes from files (tensor names, pickled class names, metadata) ends up in messages and in
 * `ganvec info`. Control characters in it could move the cursor, rewrite the terminal title (ESC ] 0 ;),
 * break a one-line message or reorder what is shown (bidirectional overrides), so they are shown as
 * escapes instead: `\xNN` below U+0100, `\uNNNN` above.
 */

/** C0 and C1 controls and DEL, line and paragraph separators, and the bidirectional marks and overrides. */
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
/** The same, except the newline: in serialised JSON the only raw newlines are the ones between lines. */
const UNPRINTABLE_IN_JSON = /[\0-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

const hex = (c: string, digits: number) => c.charCodeAt(0).toString(16).padStart(digits, '0');

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => (c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/**
 * Pretty-printed JSON with those characters as `\uNNNN` escapes, which JSON.stringify leaves raw above
 * U+001F: the output is safe to print and parses back to the same values.
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNPRINTABLE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
