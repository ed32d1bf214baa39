/**
 * Importing the domain checkpoints people already have. HyperDomainNet's and StyleDomain's trainers save
 * a trained parameterisation with `torch.save(get_trainable_model_state(config, trainable.state_dict()))`:
 * `{model_type, patch_key, state_dict: {"heads.conv_<i>.params_in": …}, sg2_params}`, head i being the
 * i-th modulated synthesis conv (conv1, convs.0, …). HyperDomainNet spells model_type "parameterization"
 * and StyleDomain "parametrization". Their `cin_mult` heads ([1, 1, c_in, 1, 1], the weight scaled by
 * 1 + d per input channel) are our domain vector; StyleDomain's `s_delta` heads ([1, c_in], added to the
 * style) are our style offsets.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { numel, shapeString } from '../core/tensor.js';
import { readCheckpoint } from '../io/checkpoint.js';
import { CheckpointError } from '../io/errors.js';
import { baseModelMetadata, type DomainFile, type DomainTarget } from './domain-file.js';

/** The parameterisation each importable patch key is, and the head shape it saves (c = input channels). */
const PATCH_KEYS: Record<string, { parameterisation: string; shape: (c: number) => number[] }> = {
  cin_mult: { parameterisation: 'domain-vector', shape: (c) => [1, 1, c, 1, 1] },
  s_delta: { parameterisation: 'style-offsets', shape: (c) => [1, c] },
};
const TOOLS: Record<string, string> = { parameterization: 'HyperDomainNet', parametrization: 'StyleDomain' };

/** A foreign domain checkpoint, read: which tool, which of our parameterisations, and its heads in order. */
export interface ForeignDomain {
  path: string;
  tool: string;
  patchKey: string;
  parameterisation: string;
  /** One per head conv_0, conv_1, …: its values and stored shape. */
  heads: Array<{ name: string; data: Float32Array; shape: number[] }>;
  /** The generator settings the trainer recorded (`sg2_params`): img_size, latent_size, … */
  generatorSettings: Record<string, unknown>;
  sha256: string;
}

/** Reads a HyperDomainNet or StyleDomain domain checkpoint (never executing anything in it). */
export async function readForeignDomain(path: string): Promise<ForeignDomain> {
  const ck = await readCheckpoint(path);
  const fail = (problem: string) => new CheckpointError(path, problem);
  const root = ck.root;
  if (!(root instanceof Map) || !root.has('model_type')) {
    throw fail('not a HyperDomainNet or StyleDomain domain checkpoint: it has no "model_type" (expected what their trainers save with save_models)');
  }
  const modelType = root.get('model_type');
  const tool = TOOLS[String(modelType)];
  if (!tool) {
    const why = modelType === 'mapper' ? 'a HyperDomainNet multi-domain mapper (HyperDomainNet proper), which makes a vector per text; only single-domain checkpoints can be imported' : `model_type ${JSON.stringify(modelType)}; importable are single-domain parameterisation checkpoints`;
    throw fail(`cannot import ${why}`);
  }
  const patchKey = String(root.get('patch_key'));
  const kind = PATCH_KEYS[patchKey];
  if (!kind) throw fail(`${tool} patch_key ${JSON.stringify(patchKey)} has no ganvec parameterisation; importable are ${Object.keys(PATCH_KEYS).join(', ')}`);
  const state = root.get('state_dict');
  if (!(state instanceof Map)) throw fail('its "state_dict" is not a dict of tensors');

  const heads: ForeignDomain['heads'] = [];
  for (let i = 0; ; i++) {
    const name = `heads.conv_${i}.params_in`;
    const t = ck.tensors.get(`state_dict.${name}`);
    if (!t) break;
    const data = t.data;
    if (!(data instanceof Float32Array)) throw fail(`${name} holds ${t.storedAs}, expected float32`);
    const c = numel(t.shape);
    if (shapeString(t.shape) !== shapeString(kind.shape(c))) throw fail(`${name} has shape ${shapeString(t.shape)}; ${patchKey} heads are ${shapeString(kind.shape(c))}`);
    heads.push({ name, data, shape: t.shape });
  }
  if (heads.length === 0) throw fail('its state_dict has no heads.conv_0.params_in');
  const unexpected = [...state.keys()].map(String).filter((k) => !/^heads\.conv_\d+\.params_in$/.test(k) || !heads.some((h) => h.name === k));
  if (unexpected.length > 0) throw fail(`its state_dict has entries a ${patchKey} checkpoint does not: ${unexpected.slice(0, 5).join(', ')}`);

  const settings = root.get('sg2_params');
  const generatorSettings = settings instanceof Map ? Object.fromEntries([...settings].map(([k, v]) => [String(k), v])) : {};
  const sha256 = createHash('sha256').update(await readFile(path)).digest('hex');
  return { path, tool, patchKey, parameterisation: kind.parameterisation, heads, generatorSettings, sha256 };
}

/**
 * The foreign checkpoint as a domain file for `generator` (loaded for its parameterisation, all layers):
 * head i becomes the generator's i-th layer, checked for count and size, with provenance in
 * `imported_from`. Nothing in the checkpoint says which weights it was trained on beyond the resolution,
 * so the caller names the generator.
 */
export function importedDomainFile(foreign: ForeignDomain, generator: DomainTarget & { size: number }): DomainFile {
  const fail = (problem: string) => new CheckpointError(foreign.path, problem);
  if (generator.parameterisation.name !== foreign.parameterisation) {
    throw new Error(`importedDomainFile: the generator was loaded for ${generator.parameterisation.name}; ${foreign.path} holds ${foreign.parameterisation}`);
  }
  const size = foreign.generatorSettings.img_size;
  if (typeof size === 'number' && size !== generator.size) {
    throw fail(`${foreign.tool} trained it on a ${size} px generator (sg2_params.img_size); this generator makes ${generator.size} px images`);
  }
  const layers = generator.domainLayers;
  const dims = (list: Array<{ dim: number }>) => list.map((l) => l.dim).join(',');
  const found = foreign.heads.map((h) => ({ dim: h.data.length }));
  if (dims(found) !== dims(layers)) {
    throw fail(`its ${foreign.heads.length} heads have ${dims(found)} channels; this generator's ${layers.length} ${foreign.parameterisation} layers have ${dims(layers)}`);
  }
  const vector = new Float32Array(layers.reduce((n, l) => n + l.dim, 0));
  let offset = 0;
  for (const head of foreign.heads) {
    vector.set(head.data, offset);
    offset += head.data.length;
  }
  return {
    vector,
    layers,
    metadata: {
      ...baseModelMetadata(generator),
      parameterisation: foreign.parameterisation,
      imported_from: JSON.stringify({
        tool: foreign.tool, file: basename(foreign.path), sha256: foreign.sha256, patch_key: foreign.patchKey,
        heads: foreign.heads.map((h, i) => `${h.name} → ${layers[i]!.name}`), sg2_params: foreign.generatorSettings,
      }),
    },
  };
}
