/**
 * Real-photo speed: face detection + landmarks (face-api on TensorFlow.js WASM) and FFHQ alignment of
 * astronaut.png (python3-skimage's, installed by the tests), seconds per photo; and one LPIPS-VGG16
 * evaluation with its gradient at 256 px (random weights of the real shapes), the perceptual part of a
 * projection step.
 */
import { readRgb } from '../src/faces/align-photo.js';
import { detectFaces } from '../src/faces/face-detector.js';
import { alignFace } from '../src/faces/ffhq-align.js';
import { Graph } from '../src/engine/graph.js';
import { grad } from '../src/engine/grad.js';
import { sumAll } from '../src/engine/ops.js';
import { Session } from '../src/engine/session.js';
import { lpipsDistance, lpipsFeatures, type LpipsWeights } from '../src/perceptual/lpips.js';
import { astronautPhoto } from '../test/helpers/astronaut.js';
import { timeRuns, type BenchRow } from './measure.js';

export async function benchAlign(): Promise<BenchRow[]> {
  const photo = await readRgb(astronautPhoto());
  const detect = await timeRuns(() => detectFaces(photo), 3);
  const [face] = await detectFaces(photo);
  const rows: BenchRow[] = [{ name: `face detection + 68 landmarks, ${photo.width}×${photo.height} photo`, value: detect, unit: 's/photo' }];
  for (const size of [1024, 256]) {
    rows.push({ name: `FFHQ alignment to ${size} px (4096 px quad transform)`, value: await timeRuns(async () => alignFace(photo, face!.landmarks, { outputSize: size }), 3), unit: 's/photo' });
  }
  return rows;
}

function randomLpips(): LpipsWeights {
  const widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512];
  let cin = 3;
  const convs = widths.map((c) => {
    const n = c * cin * 9;
    const weight = { data: Float32Array.from({ length: n }, () => (Math.random() - 0.5) * Math.sqrt(24 / (cin * 9))), shape: [c, cin, 3, 3] };
    cin = c;
    return { weight, bias: { data: new Float32Array(c), shape: [1, c, 1, 1] } };
  });
  return { convs, lins: [64, 128, 256, 512, 512].map((c) => ({ data: new Float32Array(c).fill(0.1), shape: [1, c, 1, 1] })) };
}

export async function benchLpips(): Promise<BenchRow[]> {
  const w = randomLpips();
  const g = new Graph('lpips_bench');
  const x = g.input('x', [1, 3, 256, 256]);
  const y = g.input('y', [1, 3, 256, 256]);
  const d = lpipsDistance(g, w, lpipsFeatures(g, w, x), lpipsFeatures(g, w, y));
  g.output('d', d);
  g.output('dx', grad(sumAll(d), [x])[0]!);
  const session = await Session.fromGraph(g);
  const image = () => ({ data: Float32Array.from({ length: 3 * 256 * 256 }, () => Math.random() * 2 - 1), shape: [1, 3, 256, 256] });
  const feeds = { x: image(), y: image() };
  const seconds = await timeRuns(() => session.run(feeds), 3);
  await session.release();
  return [{ name: 'LPIPS-VGG16 at 256 px, value and d/d(image)', value: seconds, unit: 's' }];
}
