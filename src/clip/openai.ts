/**
 * openai/CLIP state-dict names → the format-neutral CLIP. The same names come from a plain `torch.save`
 * of the state dict and from OpenAI's released TorchScript `.pt` (its module tree flattened to a state
 * dict). Layer counts are read off the names exactly as `build_model` does; the scalar entries
 * `input_resolution`, `context_length` and `vocab_size` that the TorchScript files carry are ignored.
 */
import {
  clipWeights, layerNormAt, linearAt, logitScaleOf,
  type ClipWeights, type ResidualBlockWeights,
} from './architecture.js';
import { floatTensor, type NamedTensors } from '../io/named-tensors.js';

/** True when the names are openai/CLIP's (ViT or ResNet image tower). */
export function isOpenAIClip(tensors: NamedTensors): boolean {
  return tensors.has('text_projection') && tensors.has('token_embedding.weight') && [...tensors.keys()].some((k) => k.startsWith('visual.'));
}

function residualBlock(tensors: NamedTensors, p: string): ResidualBlockWeights {
  return {
    ln1: layerNormAt(tensors, `${p}.ln_1`),
    attnIn: linearAt(tensors, `${p}.attn.in_proj_weight`, `${p}.attn.in_proj_bias`),
    attnOut: linearAt(tensors, `${p}.attn.out_proj.weight`, `${p}.attn.out_proj.bias`),
    ln2: layerNormAt(tensors, `${p}.ln_2`),
    mlpFc: linearAt(tensors, `${p}.mlp.c_fc.weight`, `${p}.mlp.c_fc.bias`),
    mlpProj: linearAt(tensors, `${p}.mlp.c_proj.weight`, `${p}.mlp.c_proj.bias`),
  };
}

function blocks(tensors: NamedTensors, prefix: string, count: number): ResidualBlockWeights[] {
  return Array.from({ length: count }, (_, i) => residualBlock(tensors, `${prefix}.${i}`));
}

export function fromOpenAI(tensors: NamedTensors): ClipWeights {
  const keys = [...tensors.keys()];
  if (!tensors.has('visual.proj')) {
    if (keys.some((k) => k.startsWith('visual.layer1.'))) {
      throw new Error('this is a ResNet CLIP (visual.layer1.*); only the ViT family (ViT-B/32, ViT-B/16, ViT-L/14, …) is supported');
    }
    throw new Error('not an OpenAI ViT CLIP (no visual.proj)');
  }
  const visionLayers = keys.filter((k) => k.startsWith('visual.') && k.endsWith('.attn.in_proj_weight')).length;
  const textLayers = new Set(keys.filter((k) => k.startsWith('transformer.resblocks')).map((k) => k.split('.')[2])).size;
  return clipWeights({
    vision: {
      patchEmbedding: floatTensor(tensors, 'visual.conv1.weight'),
      classEmbedding: floatTensor(tensors, 'visual.class_embedding').data,
      positionalEmbedding: floatTensor(tensors, 'visual.positional_embedding'),
      lnPre: layerNormAt(tensors, 'visual.ln_pre'),
      blocks: blocks(tensors, 'visual.transformer.resblocks', visionLayers),
      lnPost: layerNormAt(tensors, 'visual.ln_post'),
      proj: floatTensor(tensors, 'visual.proj'),
    },
    text: {
      tokenEmbedding: floatTensor(tensors, 'token_embedding.weight'),
      positionalEmbedding: floatTensor(tensors, 'positional_embedding'),
      blocks: blocks(tensors, 'transformer.resblocks', textLayers),
      lnFinal: layerNormAt(tensors, 'ln_final'),
      projection: floatTensor(tensors, 'text_projection'),
    },
    logitScale: logitScaleOf(tensors),
  });
}
