/**
 * A 5×7 pixel font for labels in image grids: digits, capital letters (lower case is drawn as capitals) and
 * a little punctuation. Built in, so labels look the same on every machine without a font library or fonts.
 */

/** Each glyph is 7 rows of 5 bits, most significant bit leftmost, as 14 hex digits. */
const GLYPHS: Readonly<Record<string, string>> = {
  '0': '0e11131519110e', '1': '040c040404040e', '2': '0e11010204081f', '3': '1f02040201110e',
  '4': '02060a121f0202', '5': '1f101e0101110e', '6': '0608101e11110e', '7': '1f010204080808',
  '8': '0e11110e11110e', '9': '0e11110f01020c',
  A: '0e1111111f1111', B: '1e11111e11111e', C: '0e11101010110e', D: '1c12111111121c',
  E: '1f10101e10101f', F: '1f10101e101010', G: '0e11101711110f', H: '1111111f111111',
  I: '0e04040404040e', J: '0702020202120c', K: '11121418141211', L: '1010101010101f',
  M: '111b1515111111', N: '11111915131111', O: '0e11111111110e', P: '1e11111e101010',
  Q: '0e11111115120d', R: '1e11111e141211', S: '0f10100e01011e', T: '1f040404040404',
  U: '1111111111110e', V: '11111111110a04', W: '1111111515150a', X: '11110a040a1111',
  Y: '1111110a040404', Z: '1f01020408101f',
  ' ': '00000000000000', '-': '0000001f000000', '.': '00000000000c0c', ':': '000c0c000c0c00',
  '/': '00010204081000', '_': '0000000000001f', '#': '0a0a1f0a1f0a0a', '=': '00001f001f0000',
  '+': '0004041f040400', '(': '02040808080402', ')': '08040202020408', '?': '0e110102040004',
};

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Glyph plus one column of space. */
export const GLYPH_ADVANCE = GLYPH_WIDTH + 1;

/** The glyph's 7 rows of 5 bits; an unknown character is drawn as `?`. */
export function glyphRows(char: string): number[] {
  const hex = (GLYPHS[char.toUpperCase()] ?? GLYPHS['?']!);
  return Array.from({ length: GLYPH_HEIGHT }, (_, row) => parseInt(hex.slice(2 * row, 2 * row + 2), 16));
}

/** The width in pixels of `text` drawn at `scale`, without the space after the last glyph. */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * GLYPH_ADVANCE - 1) * scale;
}

/**
 * Draws `text` into an interleaved 8-bit RGB image of `width` pixels per row, its top-left corner at
 * (x, y), each font pixel a `scale`×`scale` square of `color`. Pixels outside [clipLeft, clipRight) or
 * outside the image are not drawn.
 */
export function drawText(
  rgb: Uint8Array, width: number, text: string,
  at: { x: number; y: number; scale: number; color: readonly [number, number, number]; clipLeft?: number; clipRight?: number },
): void {
  const height = rgb.length / (3 * width);
  const left = Math.max(0, at.clipLeft ?? 0);
  const right = Math.min(width, at.clipRight ?? width);
  [...text].forEach((char, i) => {
    const rows = glyphRows(char);
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (!((rows[gy]! >> (GLYPH_WIDTH - 1 - gx)) & 1)) continue;
        for (let dy = 0; dy < at.scale; dy++) {
          const y = at.y + gy * at.scale + dy;
          if (y < 0 || y >= height) continue;
          for (let dx = 0; dx < at.scale; dx++) {
            const x = at.x + (i * GLYPH_ADVANCE + gx) * at.scale + dx;
            if (x < left || x >= right) continue;
            rgb.set(at.color, (y * width + x) * 3);
          }
        }
      }
    }
  });
}
