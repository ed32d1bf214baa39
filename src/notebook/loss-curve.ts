/**
 * A training run's loss curve as a PNG, for a notebook's `display.png` or a report: one line per series
 * (the total loss, or each term), the y range labelled at its ends, the steps along x, and a legend, drawn
 * with the built-in bitmap font so it looks the same on every machine.
 */
import { drawText, GLYPH_HEIGHT, textWidth } from '../io/bitmap-font.js';
import { rgbToPng } from '../io/image.js';

export interface LossCurveOptions {
  width?: number;
  height?: number;
}

type Rgb = readonly [number, number, number];
const COLORS: readonly Rgb[] = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [148, 103, 189], [255, 127, 14]];
const AXIS: Rgb = [0, 0, 0];
const SCALE = 1;
const LABEL = (GLYPH_HEIGHT + 3) * SCALE;

/** `series`: the losses of steps 1, 2, … (e.g. `AdaptResult.losses`), or named series of the same length. */
export async function lossCurvePng(series: readonly number[] | Readonly<Record<string, readonly number[]>>, options: LossCurveOptions = {}): Promise<Buffer> {
  const named = isSeries(series) ? { loss: series } : series;
  const lines = Object.entries(named);
  const steps = Math.max(0, ...lines.map(([, v]) => v.length));
  if (steps === 0) throw new RangeError('a loss curve needs at least one step');
  const values = lines.flatMap(([, v]) => v.filter(Number.isFinite));
  if (values.length === 0) throw new RangeError('a loss curve needs at least one finite loss');
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) [lo, hi] = [lo - 0.5, hi + 0.5];

  const width = options.width ?? 480;
  const height = options.height ?? 240;
  const yTexts = [hi, lo].map(tick);
  const left = Math.max(...yTexts.map((t) => textWidth(t, SCALE))) + 6;
  const top = LABEL * lines.length + 4;
  const right = width - 8;
  const bottom = height - LABEL - 4;
  if (right - left < 16 || bottom - top < 16) throw new RangeError(`a ${width}×${height} plot has no room for ${lines.length} series`);
  const rgb = new Uint8Array(width * height * 3).fill(255);

  const xOf = (step: number) => (steps === 1 ? (left + right) / 2 : left + ((step - 1) * (right - left)) / (steps - 1));
  const yOf = (v: number) => bottom - ((v - lo) * (bottom - top)) / (hi - lo);
  segment(rgb, width, left, top, left, bottom, AXIS);
  segment(rgb, width, left, bottom, right, bottom, AXIS);
  drawText(rgb, width, yTexts[0]!, { x: 2, y: top - Math.floor(GLYPH_HEIGHT / 2), scale: SCALE, color: AXIS });
  drawText(rgb, width, yTexts[1]!, { x: 2, y: bottom - GLYPH_HEIGHT, scale: SCALE, color: AXIS });
  drawText(rgb, width, 'STEP 1', { x: left, y: bottom + 3, scale: SCALE, color: AXIS });
  const last = String(steps);
  drawText(rgb, width, last, { x: right - textWidth(last, SCALE), y: bottom + 3, scale: SCALE, color: AXIS });

  lines.forEach(([name, v], k) => {
    const color = COLORS[k % COLORS.length]!;
    drawText(rgb, width, name, { x: left + 4, y: 2 + k * LABEL, scale: SCALE, color });
    for (let i = 1; i < v.length; i++) {
      if (Number.isFinite(v[i - 1]) && Number.isFinite(v[i])) segment(rgb, width, xOf(i), yOf(v[i - 1]!), xOf(i + 1), yOf(v[i]!), color);
    }
    if (v.length === 1 && Number.isFinite(v[0])) segment(rgb, width, xOf(1), yOf(v[0]!), xOf(1), yOf(v[0]!), color);
  });
  return rgbToPng(rgb, width, height, 3);
}

function isSeries(s: readonly number[] | Readonly<Record<string, readonly number[]>>): s is readonly number[] {
  return Array.isArray(s);
}

/** Four significant digits, without a trailing exponent's plus sign: 0.8123, 12.35, 1.2E-5. */
function tick(v: number): string {
  return Number(v.toPrecision(4)).toString().toUpperCase().replace('E+', 'E');
}

/** A one-pixel line between two points (Bresenham on the rounded ends). */
function segment(rgb: Uint8Array, width: number, x0: number, y0: number, x1: number, y1: number, color: Rgb): void {
  const height = rgb.length / (3 * width);
  let [x, y] = [Math.round(x0), Math.round(y0)];
  const [xe, ye] = [Math.round(x1), Math.round(y1)];
  const dx = Math.abs(xe - x);
  const dy = -Math.abs(ye - y);
  const sx = x < xe ? 1 : -1;
  const sy = y < ye ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    if (x >= 0 && x < width && y >= 0 && y < height) rgb.set(color, (y * width + x) * 3);
    if (x === xe && y === ye) return;
    const e2 = 2 * err;
    if (e2 >= dy) [err, x] = [err + dy, x + sx];
    if (e2 <= dx) [err, y] = [err + dx, y + sy];
  }
}
