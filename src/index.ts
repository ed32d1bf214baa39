/**
 * ganvec's public API: load a generator and CLIP models, train or load domain vectors, generate.
 * Tensors are `{ data: Float32Array, shape: number[] }`, row-major (NCHW for images).
 *
 *   const G = await loadGenerator('ffhq');
 *   const images = await G.generate({ z: zFromSeeds([0, 1], G.styleDim), domain: await loadDomainVector('pixar.dv.safetensors', G) });
 *   const { domain, w } = await G.vjp({ w: W }, cotangent); // gradients of sum(images · cotangent)
 */
export type { Tensor } from './engine/tensor.js';

export { loadGenerator, readGeneratorFile, type LoadGeneratorOptions } from './generators/load.js';
export type { Generator, GenerateOptions, SynthesizeOptions, GeneratorOptions } from './generators/generator.js';
export { zFromSeeds, truncate, toWPlus, mixStyles, sampleInputs, type NoiseMode } from './generators/latents.js';
export { randomRosinalityStateDict } from './models/stylegan2/random-weights.js';

export { loadClip, type Clip } from './models/clip/clip.js';
export { tokenize, encode as encodeText, decode as decodeTokens } from './models/clip/tokenizer.js';

export { adapt, type AdaptOptions, type AdaptOutcome } from './train/adapt-target.js';
export { adaptDomain, DEFAULT_SETTINGS, type AdaptSettings, type StepReport, type AdaptResult } from './train/adapt.js';
export { evaluateDomain, type Evaluation } from './train/evaluate.js';
export { textDirection } from './train/text-direction.js';

export { readDomainFile, writeDomainFile, loadDomainVector, mixDomainVectors, baseModelMetadata, type DomainFile } from './domains/domain-file.js';
export { readNpy, writeNpy } from './io/npy.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export { readCheckpoint } from './io/checkpoint.js';
export { imagesToPng, writeImageGrid } from './io/image.js';
export { resolveModel } from './io/resolve-model.js';

/** The graph engine, for custom losses: build graphs, differentiate them, run them in ONNX Runtime. */
export { Graph } from './engine/graph.js';
export * as ops from './engine/ops.js';
export { grad } from './engine/grad.js';
export { Session } from './engine/session.js';
export { VERSION } from './version.js';
