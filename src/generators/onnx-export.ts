/**
 * One self-contained ONNX model of a generator of any family, for stock ONNX Runtime (Node, Python, web):
 * mapping, truncation, the trained vector of its parameterisation and the per-sample inputs (noise) in one
 * graph with the weights inside. Built from the same family graph builders as `generate`, so it computes
 * what `generate` computes.
 *
 * Inputs (N = the batch it is exported for):
 *   z           [N, zDim]            the latent (`latent: 'w'`: w [N, nLatent, wDim], W+ rows)
 *   truncation  [1]                  ψ: w_avg + ψ·(w − w_avg); 1 = none
 *   domain      [domainSize]         the trained vector (zeros = the original generator); absent when baked
 *   const_noise [1]                  weight of the stored noise maps: 1 = noise mode const, 0 = none/random
 *   <sample>    [N, ...shape]        each per-sample input (StyleGAN2: noise_<i> [N, 1, R, R]), added to
 *                                    const_noise × the stored map: zeros for const and none, N(0, 1) for random
 * Output:
 *   img         [N, 3, S, S]         images in [-1, 1], not clamped (S = size, or the smaller exported size)
 */
import { Graph, type Value } from '../engine/graph.js';
import { add, expand, mul, reduceMean, reshape, sub } from '../engine/ops.js';
import { OPSET, toOnnx } from '../engine/onnx.js';
import { VERSION } from '../version.js';
import type { Generator } from './generator.js';

export interface OnnxExportOptions {
  /** Which latent the model takes: `z` (mapped inside) or `w` (W+ rows). Default z. */
  latent?: 'z' | 'w';
  /** Images per run; the graph is static in it. Default 1. */
  batch?: number;
  /** A trained vector stored in the model instead of taken as the `domain` input. */
  bakeDomain?: Float32Array;
  /** Output side: the generator's size divided by a whole factor (box average). Default: the generator's size. */
  size?: number;
}

/** An exported model's interface, as its metadata (`ganvec_interface`) and the README state it. */
export interface OnnxInterface {
  inputs: Array<{ name: string; shape: number[]; what: string }>;
  outputs: Array<{ name: string; shape: number[]; what: string }>;
  opset: number;
}

export async function exportOnnx(G: Generator, options: OnnxExportOptions = {}): Promise<{ model: Uint8Array; spec: OnnxInterface }> {
  const { latent = 'z', batch = 1, bakeDomain } = options;
  const size = options.size ?? G.size;
  if (!Number.isSafeInteger(size) || size < 1 || G.size % size !== 0) {
    throw new Error(`--size ${size}: the exported size must divide the generator's ${G.size} px (e.g. ${G.size / 2}, ${G.size / 4})`);
  }
  if (bakeDomain && bakeDomain.length !== G.domainSize) {
    throw new Error(`the baked domain vector has ${bakeDomain.length} values; this generator takes ${G.domainSize} (${G.parameterisation.name})`);
  }
  const d = G.description;
  const wAvg = await G.wAvg();
  const g = new Graph('ganvec_generator');
  const inputs: OnnxInterface['inputs'] = [];
  const input = (name: string, shape: number[], what: string) => {
    inputs.push({ name, shape, what });
    return g.input(name, shape);
  };

  // W+ [N, L, D]
  let ws: Value;
  if (latent === 'z') {
    const z = input('z', [batch, d.zDim], 'latent z (seed s: numpy.random.RandomState(s).randn(zDim))');
    ws = expand(reshape(G.family.mapping(g, G.arch, z), [batch, 1, d.wDim]), [batch, d.nLatent, d.wDim]);
  } else {
    ws = input('w', [batch, d.nLatent, d.wDim], 'W+ latents (rows of W for each layer)');
  }
  const psi = input('truncation', [1], 'truncation psi toward w_avg (1 = none)');
  const avg = g.constant(wAvg, [1, 1, d.wDim], 'w_avg');
  ws = add(avg, mul(psi, sub(ws, avg)));

  const vector = bakeDomain ? g.constant(bakeDomain, [G.domainSize], 'baked_domain') : input('domain', [G.domainSize], `the ${G.parameterisation.name} vector (zeros = the original generator)`);
  const constNoise = input('const_noise', [1], 'weight of the stored noise maps: 1 = noise mode const, 0 = none or random');
  const samples = G.sampleInputs.map((s) => {
    const fed = input(s.name, [batch, ...s.shape], 'added to const_noise x the stored map: zeros (const, none) or N(0,1) (random)');
    return s.constant ? add(fed, mul(constNoise, g.constant(s.constant, [1, ...s.shape], `${s.name}_const`))) : fed;
  });

  let img = G.synthesisGraph(g, { ws, samples, vector });
  if (size !== G.size) {
    const f = G.size / size;
    img = reduceMean(reshape(img, [batch, 3, size, f, size, f]), [3, 5]);
  }
  g.output('img', img);
  const outputs = [{ name: 'img', shape: [batch, 3, size, size], what: 'images in [-1, 1], not clamped; 8-bit = clamp(127.5 x + 128, 0, 255)' }];
  const spec: OnnxInterface = { inputs, outputs, opset: OPSET };
  const model = toOnnx(g, {
    doc: `ganvec ${VERSION} export of ${G.family.name} ${G.source.path.split(/[\\/]/).pop()} (${G.parameterisation.name})`,
    metadata: {
      ganvec_version: VERSION,
      ganvec_interface: JSON.stringify(spec),
      family: G.family.name,
      base_fingerprint: G.source.fingerprint,
      parameterisation: G.parameterisation.name,
      domain_layers: JSON.stringify(G.domainLayers),
      baked_domain: bakeDomain ? 'yes' : 'no',
    },
  });
  return { model, spec };
}
