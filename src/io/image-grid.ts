/**
 * Many images in one PNG: a layout that fills its cells when the count allows (8 images: 4×2, not 3×3
 * with an empty cell), gutters between the cells, and optional labels drawn with the built-in bitmap
 * font: one under each image (e.g. its seed) and one left of each row (e.g. "original", "adapted").
 */
import type { Tensor } from '../core/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { drawText, GLYPH_HEIGHT, textWidth } from './bitmap-font.js';
import { checkImages, imageToRgb8, rgbToPng } from './image.js';

export interface GridOptions {
  /** Images per row; default: gridColumns(N). */
  cols?: number;
  /** One label per image, drawn under it. */
  labels?: readonly string[];
  /** One label per row, drawn left of it. */
  rowLabels?: readonly string[];
}

const BACKGROUND = 255;
const INK = [0, 0, 0] as const;

/**
 * Columns for `n` images: from ⌈√n⌉ up to twice that (and at most n), the count that leaves the fewest
 * empty cells, the squarer layout on a tie. 8 → 4 (4×2), 12 → 4, 7 → 4 (one empty cell), 5 → 5.
 */
export function gridColumns(n: number): number {
  const least = Math.ceil(Math.sqrt(n));
  let best = least;
  for (let cols = least; cols <= Math.min(n, 2 * least); cols++) {
    const empty = (cols: number) => Math.ceil(n / cols) * cols - n;
    if (empty(cols) < empty(best)) best = cols;
  }
  return Math.min(best, n);
}

/** Gutter, label scale and label strip height for images `w` pixels wide, so labels grow with the images. */
function metrics(w: number) {
  const scale = Math.max(1, Math.round(w / 128));
  return { gutter: Math.max(2, Math.round(w / 64)), scale, strip: (GLYPH_HEIGHT + 2) * scale };
}

/** Every image of a batch laid out in a grid (see the file comment), written as one PNG, atomically. */
export async function writeImageGrid(path: string, images: Tensor, options: GridOptions = {}): Promise<{ rows: number; cols: number }> {
  const [n, , h, w] = checkImages(images);
  const cols = Math.min(n, options.cols ?? gridColumns(n));
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`a grid needs at least one column, got ${options.cols}`);
  const rows = Math.ceil(n / cols);
  const { labels, rowLabels } = options;
  if (labels && labels.length !== n) throw new RangeError(`a grid of ${n} images needs ${n} labels, got ${labels.length}`);
  if (rowLabels && rowLabels.length !== rows) throw new RangeError(`a grid of ${rows} rows needs ${rows} row labels, got ${rowLabels.length}`);

  const { gutter, scale, strip } = metrics(w);
  const labelHeight = labels ? strip : 0;
  const rowLabelWidth = rowLabels ? Math.max(...rowLabels.map((l) => textWidth(l, scale))) + gutter : 0;
  const left = gutter + rowLabelWidth;
  const width = left + cols * (w + gutter);
  const height = gutter + rows * (h + labelHeight + gutter);
  const grid = new Uint8Array(width * height * 3).fill(BACKGROUND);
  const cellTop = (row: number) => gutter + row * (h + labelHeight + gutter);

  for (let i = 0; i < n; i++) {
    const rgb = imageToRgb8(images, i);
    const x = left + (i % cols) * (w + gutter);
    const y = cellTop(Math.floor(i / cols));
    for (let line = 0; line < h; line++) grid.set(rgb.subarray(line * w * 3, (line + 1) * w * 3), ((y + line) * width + x) * 3);
    const label = labels?.[i];
    if (label) {
      // Centred under the image, cut at the cell's edges when it is wider.
      const textX = x + Math.max(0, Math.floor((w - textWidth(label, scale)) / 2));
      drawText(grid, width, label, { x: textX, y: y + h + scale, scale, color: INK, clipLeft: x, clipRight: x + w });
    }
  }
  rowLabels?.forEach((label, row) => {
    const y = cellTop(row) + Math.max(0, Math.floor((h - GLYPH_HEIGHT * scale) / 2));
    drawText(grid, width, label, { x: gutter, y, scale, color: INK, clipRight: left - gutter });
  });
  await writeFileAtomic(path, await rgbToPng(grid, width, height, 3));
  return { rows, cols };
}
