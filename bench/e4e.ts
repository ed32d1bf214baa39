/**
 * e4e inversion: one forward pass of Encoder4Editing (IR-SE50, 18 style blocks of width 512, the shapes of
 * e4e_ffhq_encode.pt) on a 256 px image, with random weights; and the time to build its session (about
 * 1 GB of constants).
 */
import { e4eWeightsFrom } from '../src/encoders/e4e.js';
import { E4eEncoder, E4E_INPUT_SIZE } from '../src/encoders/e4e-encoder.js';
import type { NamedTensors } from '../src/io/named-tensors.js';
import { timeRuns, type BenchRow } from './measure.js';

/** A state dict with e4e's names and shapes at `stylegan_size` 1024; `scale` divides every width (for a smoke run). */
export function randomE4eTensors(scale = 1): NamedTensors {
  const t: NamedTensors = new Map();
  let seed = 1;
  const put = (name: string, shape: number[], std: number, mean = 0) => {
    const data = new Float32Array(shape.reduce((p, d) => p * d, 1));
    for (let i = 0; i < data.length; i++) data[i] = mean + std * ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 3.46;
    t.set(name, { data, shape });
  };
  const conv = (name: string, o: number, i: number, k: number) => put(name, [o, i, k, k], Math.sqrt(1 / (i * k * k)));
  const bn = (name: string, c: number) => {
    put(`${name}.weight`, [c], 0.1, 1);
    put(`${name}.bias`, [c], 0.1);
    put(`${name}.running_mean`, [c], 0.1);
    put(`${name}.running_var`, [c], 0.1, 1);
  };
  const p = 'state_dict.encoder.';
  const w = (c: number) => c / scale;
  conv(`${p}input_layer.0.weight`, w(64), 3, 3);
  bn(`${p}input_layer.1`, w(64));
  put(`${p}input_layer.2.weight`, [w(64)], 0.05, 0.25);
  let unit = 0;
  let cin = w(64);
  for (const [depth, count] of [[64, 3], [128, 4], [256, 14], [512, 3]] as const) {
    for (let k = 0; k < count; k++, unit++) {
      const d = w(depth);
      const name = `${p}body.${unit}`;
      if (cin !== d) {
        conv(`${name}.shortcut_layer.0.weight`, d, cin, 1);
        bn(`${name}.shortcut_layer.1`, d);
      }
      bn(`${name}.res_layer.0`, cin);
      conv(`${name}.res_layer.1.weight`, d, cin, 3);
      put(`${name}.res_layer.2.weight`, [d], 0.05, 0.25);
      conv(`${name}.res_layer.3.weight`, d, d, 3);
      bn(`${name}.res_layer.4`, d);
      conv(`${name}.res_layer.5.fc1.weight`, Math.floor(d / 16), d, 1);
      conv(`${name}.res_layer.5.fc2.weight`, d, Math.floor(d / 16), 1);
      cin = d;
    }
  }
  const top = w(512);
  for (const [name, i] of [['latlayer1', w(256)], ['latlayer2', w(128)]] as const) {
    conv(`${p}${name}.weight`, top, i, 1);
    put(`${p}${name}.bias`, [top], 0.01);
  }
  for (let s = 0; s < 18; s++) {
    const convs = s < 3 ? 4 : s < 7 ? 5 : 6;
    for (let k = 0; k < convs; k++) {
      conv(`${p}styles.${s}.convs.${2 * k}.weight`, top, top, 3);
      put(`${p}styles.${s}.convs.${2 * k}.bias`, [top], 0.01);
    }
    put(`${p}styles.${s}.linear.weight`, [top, top], 1);
    put(`${p}styles.${s}.linear.bias`, [top], 0.01);
  }
  put('latent_avg', [18, top], 0.5);
  return t;
}

export async function benchE4e(): Promise<BenchRow[]> {
  const weights = e4eWeightsFrom(randomE4eTensors(), { encoderType: 'Encoder4Editing', styleganSize: 1024, startFromLatentAvg: true });
  const t0 = performance.now();
  const encoder = await E4eEncoder.fromWeights(weights, 'random e4e');
  const build = (performance.now() - t0) / 1000;
  const image = { data: Float32Array.from({ length: 3 * E4E_INPUT_SIZE ** 2 }, (_, i) => Math.sin(i) * 0.9), shape: [1, 3, E4E_INPUT_SIZE, E4E_INPUT_SIZE] };
  const seconds = await timeRuns(() => encoder.encode(image), 3);
  await encoder.release();
  return [
    { name: 'e4e FFHQ encoder, one 256 px image → W+ [18, 512]', value: seconds, unit: 's' },
    { name: 'e4e: building its session (IR-SE50 and 18 style blocks)', value: build, unit: 's' },
  ];
}
