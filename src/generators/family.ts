/**
 * A generator family (StyleGAN2; StyleGAN3 and the Progressive GAN next): everything ganvec needs to know
 * about one kind of generator, behind one interface, so that the Generator, training, evaluation and the
 * commands work for any family. A family reads its checkpoints into an architecture (its weights in a
 * format-neutral shape), describes it, and builds its mapping and synthesis graphs; at each modulated
 * layer synthesis calls the hooks of the trained parameterisation (parameterisations/).
 */
import type { Graph, Value } from '../engine/graph.js';
import type { Checkpoint } from '../io/checkpoint.js';

/** A layer a parameterisation can act on. */
export interface ModulatedLayer {
  /** Its name in domain files: `conv1`, `convs.0`, … */
  name: string;
  /** `conv`: a synthesis conv (demodulated in StyleGAN); `torgb`: an output layer. */
  role: 'conv' | 'torgb';
  inChannels: number;
  /** Output resolution. */
  resolution: number;
  /** Whether the layer has a style (an affine of w) that modulates it. */
  styled: boolean;
}

/**
 * How a trained vector enters synthesis, asked of each modulated layer. A hook returns undefined (or its
 * input) for a layer it does not train.
 */
export interface LayerHooks {
  /** A per-input-channel scale [1, inChannels] of the layer's input; folded into the modulation. */
  inputScale?(layer: ModulatedLayer): Value | undefined;
  /** The layer's style s [N, inChannels] → the style that modulates and demodulates it. */
  style?(layer: ModulatedLayer, s: Value): Value;
}

/** An input each sample needs besides its latent (StyleGAN2's noise maps). */
export interface SampleInput {
  name: string;
  /** Shape per sample, without the batch. */
  shape: number[];
  /** Stored values for noise mode `const`; zeros when absent. */
  constant?: Float32Array;
}

export interface GeneratorDescription {
  size: number;
  zDim: number;
  wDim: number;
  /** Rows of W+. */
  nLatent: number;
  /** Mean W for truncation, when the checkpoint stores one. */
  wAvg?: Float32Array;
  /** Why truncation does not apply, for a family without a W space to truncate in (the Progressive GAN). */
  noTruncation?: string;
  /**
   * Training steps run one sample at a time, each layer rebuilt from its stored output in the backward
   * pass (train/step-graph.ts `checkpointed`), for a family whose whole step does not fit in memory.
   */
  checkpointedSteps?: boolean;
  layers: ModulatedLayer[];
  sampleInputs: SampleInput[];
  /** Trainable weights of the generator (for `info`). */
  parameters: number;
  /** What `info` says of the family, e.g. "StyleGAN2". */
  title: string;
  /** Family-specific facts for `info`: a JSON key, a row label, the value, and how the row shows it. */
  details: Array<{ key: string; label: string; value: unknown; shown: string }>;
}

export interface SynthesisGraphInputs {
  /** W+ [N, nLatent, wDim] */
  ws: Value;
  /** One per sample input, [N, ...shape]. */
  samples: readonly Value[];
  hooks?: LayerHooks;
  /** How each layer's output is made from its inputs; by default `build(inputs)`. */
  stage?: LayerStage;
}

/**
 * A family builds each layer's heavy part through this, so that training can store the layer's output
 * [shape] from one session and rebuild the layer in another's backward pass (train/step-graph.ts).
 * `inputs[0]` is the layer's input activation; the rest are small (styles).
 */
export type LayerStage = (
  layer: string,
  inputs: readonly Value[],
  shape: readonly number[],
  build: (inputs: readonly Value[]) => Value,
) => Value;

/**
 * A generation setting of one family that changes what synthesis draws but not the weights (StyleGAN3's
 * translate and rotate, the Progressive GAN's output scale and fade-in). `generate --<name> <value>` and
 * `GeneratorOptions.settings` pass it on as text; the family parses it in `configure`.
 */
export interface FamilySetting {
  /** The flag without dashes: `translate`. */
  name: string;
  /** The value's placeholder in help: `X,Y`. */
  value: string;
  description: string;
}

export interface GeneratorFamily<A = unknown> {
  name: string;
  /** Its generation settings, if any; `configure` applies them. */
  settings?: readonly FamilySetting[];
  /** The architecture with the given settings applied (by name, values as typed); throws on a bad value. */
  configure?(arch: A, values: Readonly<Record<string, string>>): A;
  /** Whether `ck` holds this family's generator in a layout it reads (it may still refuse it in `read`). */
  detect(ck: Checkpoint): boolean;
  /** The architecture with its weights and the layout it came from (`rosinality-pt`, `nvidia-pkl`, …). */
  read(ck: Checkpoint): { arch: A; format: string };
  describe(arch: A): GeneratorDescription;
  /** sha256 over the weights in a fixed order, the same whatever file format they came from. */
  fingerprint(arch: A): string;
  /** z [N, zDim] → W [N, wDim]. */
  mapping(g: Graph, arch: A, z: Value): Value;
  /** → images [N, 3, size, size] in [-1, 1] (not clamped). */
  synthesis(g: Graph, arch: A, inputs: SynthesisGraphInputs): Value;
}
