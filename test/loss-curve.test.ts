/** The notebook loss curve: lines where the losses put them (falling loss from top left to bottom right). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import sharp from 'sharp';
import { lossCurvePng } from '../src/notebook/loss-curve.js';

async function pixels(png: Buffer): Promise<{ at: (x: number, y: number) => number[]; width: number; height: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, at: (x, y) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)] };
}

/** Rows of column x below the legend (10 px per series, then 4) holding the colour. */
function rowsWith(p: Awaited<ReturnType<typeof pixels>>, x: number, color: number[], series = 1): number[] {
  return Array.from({ length: p.height }, (_, y) => y).filter((y) => y >= 10 * series + 4 && p.at(x, y).join() === color.join());
}

const BLUE = [31, 119, 180];
const RED = [214, 39, 40];

it('draws a falling loss from the top of the plot at step 1 to its bottom at the last step', async () => {
  const p = await pixels(await lossCurvePng([3, 2, 1], { width: 200, height: 100 }));
  assert.deepEqual([p.width, p.height], [200, 100]);
  const columns = Array.from({ length: p.width }, (_, x) => x).filter((x) => rowsWith(p, x, BLUE).length > 0);
  const first = Math.min(...columns);
  const last = Math.max(...columns);
  const yFirst = Math.min(...rowsWith(p, first, BLUE));
  const yLast = Math.max(...rowsWith(p, last, BLUE));
  assert.ok(yLast - yFirst > 50, `the line falls by most of the plot's height: from y ${yFirst} to ${yLast}`);
  // Halfway along, the line is halfway down (a straight fall).
  const mid = Math.round((first + last) / 2);
  const yMid = rowsWith(p, mid, BLUE)[0]!;
  assert.ok(Math.abs(yMid - (yFirst + yLast) / 2) <= 2, `mid-point at y ${yMid}`);
});

it('draws one coloured line per named series, a rising one rising', async () => {
  const p = await pixels(await lossCurvePng({ direction: [1, 0.5, 0.25], indomain: [0, 0.5, 1] }, { width: 240, height: 120 }));
  const right = p.width - 9; // the last step's column (8 px margin)
  assert.ok(rowsWith(p, right, BLUE, 2).length > 0 && rowsWith(p, right, RED, 2).length > 0);
  assert.ok(Math.max(...rowsWith(p, right, BLUE, 2)) > Math.min(...rowsWith(p, right, RED, 2)), 'at the end the falling series is below the rising one');
});

it('refuses a run with no finite loss', async () => {
  await assert.rejects(lossCurvePng([]), /at least one step/);
  await assert.rejects(lossCurvePng([NaN]), /finite/);
});
