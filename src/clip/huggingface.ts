/**
 * Hugging Face `CLIPModel` names (`model.safetensors`, `pytorch_model.bin`) → the format-neutral CLIP.
 * HF keeps the same numbers under other names, with two differences in layout:
 * - attention has separate `q_proj`/`k_proj`/`v_proj` linears; OpenAI stacks them as rows q | k | v;
 * - `visual_projection.weight` and `text_projection.weight` are nn.Linear weights [embed, width], the
 *   transposes of OpenAI's `visual.proj` and `text_projection` [width, embed].
 * `*.position_ids` buffers are ignored (positions are always 0…n−1).
 */
import type { Tensor } from '../core/tensor.js';
import {
  clipWeights, layerNormAt, linearAt, logitScaleOf,
  type ClipWeights, type LinearWeights, type ResidualBlockWeights,
} from './architecture.js';
import { floatTensor, type NamedTensors } from '../io/named-tensors.js';

export function isHuggingFaceClip(tensors: NamedTensors): boolean {
  return tensors.has('vision_model.embeddings.patch_embedding.weight') || tensors.has('text_model.embeddings.token_embedding.weight');
}

const hfLinear = (tensors: NamedTensors, p: string) => linearAt(tensors, `${p}.weight`, `${p}.bias`);

/** Separate q, k, v linears → one in-projection with rows q | k | v. */
function stackedQkv(tensors: NamedTensors, prefix: string): LinearWeights {
  const [rows, cols] = floatTensor(tensors, `${prefix}.q_proj.weight`, [undefined, undefined]).shape as [number, number];
  // q, k and v must agree: they are stacked into one matrix.
  const parts = ['q_proj', 'k_proj', 'v_proj'].map((p) => ({
    weight: floatTensor(tensors, `${prefix}.${p}.weight`, [rows, cols]),
    bias: floatTensor(tensors, `${prefix}.${p}.bias`, [rows]).data,
  }));
  const weight = new Float32Array(3 * rows * cols);
  const bias = new Float32Array(3 * rows);
  parts.forEach((p, i) => {
    weight.set(p.weight.data, i * rows * cols);
    bias.set(p.bias, i * rows);
  });
  return { weight: { data: weight, shape: [3 * rows, cols] }, bias };
}

function transposed(t: Tensor): Tensor {
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
  return { data: out, shape: [c, r] };
}

function encoderLayers(tensors: NamedTensors, tower: string): ResidualBlockWeights[] {
  const layers: ResidualBlockWeights[] = [];
  for (let i = 0; tensors.has(`${tower}.encoder.layers.${i}.self_attn.q_proj.weight`); i++) {
    const p = `${tower}.encoder.layers.${i}`;
    layers.push({
      ln1: layerNormAt(tensors, `${p}.layer_norm1`),
      attnIn: stackedQkv(tensors, `${p}.self_attn`),
      attnOut: hfLinear(tensors, `${p}.self_attn.out_proj`),
      ln2: layerNormAt(tensors, `${p}.layer_norm2`),
      mlpFc: hfLinear(tensors, `${p}.mlp.fc1`),
      mlpProj: hfLinear(tensors, `${p}.mlp.fc2`),
    });
  }
  return layers;
}

export function fromHuggingFace(tensors: NamedTensors): ClipWeights {
  return clipWeights({
    vision: {
      patchEmbedding: floatTensor(tensors, 'vision_model.embeddings.patch_embedding.weight'),
      classEmbedding: floatTensor(tensors, 'vision_model.embeddings.class_embedding').data,
      positionalEmbedding: floatTensor(tensors, 'vision_model.embeddings.position_embedding.weight'),
      // "layrnorm" is how HF spells it.
      lnPre: layerNormAt(tensors, 'vision_model.pre_layrnorm'),
      blocks: encoderLayers(tensors, 'vision_model'),
      lnPost: layerNormAt(tensors, 'vision_model.post_layernorm'),
      proj: transposed(floatTensor(tensors, 'visual_projection.weight', [undefined, undefined])),
    },
    text: {
      tokenEmbedding: floatTensor(tensors, 'text_model.embeddings.token_embedding.weight'),
      positionalEmbedding: floatTensor(tensors, 'text_model.embeddings.position_embedding.weight'),
      blocks: encoderLayers(tensors, 'text_model'),
      lnFinal: layerNormAt(tensors, 'text_model.final_layer_norm'),
      projection: transposed(floatTensor(tensors, 'text_projection.weight', [undefined, undefined])),
    },
    logitScale: logitScaleOf(tensors),
  });
}
