/**
 * CLIP parity with openai/CLIP on the clip-tiny-a golden set (goldens README): image and text features from
 * the state-dict and the TorchScript file, the gradient of a cosine similarity with respect to the pixels,
 * and the same weights in Hugging Face `CLIPModel` layout.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { grad } from '../src/engine/grad.js';
import { Graph, type Value } from '../src/engine/graph.js';
import { div, mul, reduceSum, sqrt, sumAll } from '../src/engine/ops.js';
import { Session } from '../src/engine/session.js';
import type { Tensor } from '../src/core/tensor.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { readNpy } from '../src/io/npy.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { type Clip } from '../src/clip/clip.js';
import { loadClip } from '../src/registry/load.js';
import { endOfTextSelector, imageEncoder, textEncoder } from '../src/clip/graph.js';
import { assertClose, golden, GOLDENS } from './helpers/golden.js';

const SET = 'clip-tiny-a';
const DIR = `${GOLDENS}${SET}/`;
const FORWARD = 1e-4;
const GRADIENT = 1e-3;

const manifest = JSON.parse(await readFile(`${DIR}manifest.json`, 'utf8')) as { texts: string[] };
const tokens = (await readNpy(`${DIR}tokens.npy`)) as Tensor<BigInt64Array>;
const imageInput = await golden(SET, 'image_input.npy');

async function checkFeatures(clip: Clip): Promise<void> {
  assertClose(await clip.encodeImage(imageInput), await golden(SET, 'image_features.npy'), FORWARD, 'image_features');
  assertClose(await clip.encodeTokens(tokens), await golden(SET, 'text_features.npy'), FORWARD, 'text_features (golden ids)');
  assertClose(await clip.encodeText(manifest.texts), await golden(SET, 'text_features.npy'), FORWARD, 'text_features (texts)');
}

/** Σ over rows of cos(a_i, b) for a [N, E] and b [1, E]. */
function cosineSum(a: Value, b: Value): Value {
  const norm = (x: Value) => sqrt(reduceSum(mul(x, x), [1]));
  return sumAll(div(reduceSum(mul(a, b), [1]), mul(norm(a), norm(b))));
}

describe('clip-tiny-a', () => {
  const opened: Clip[] = [];
  after(async () => {
    for (const clip of opened) await clip.release();
  });
  // Batch 3 splits the 8 texts into chunks, the last one zero-padded.
  const load = async (file: string) => {
    const clip = await loadClip(file, { batch: 3, threads: 1 });
    opened.push(clip);
    return clip;
  };

  for (const file of ['clip_state_dict.pt', 'clip_jit.pt']) {
    it(`${file}: image and text features match openai/CLIP`, async () => {
      const clip = await load(`${DIR}${file}`);
      assert.deepEqual(clip.weights.config, {
        embedDim: 32,
        vision: { width: 128, layers: 2, heads: 2, patchSize: 8, grid: 4, resolution: 32 },
        text: { width: 64, layers: 2, heads: 1, contextLength: 77, vocabSize: 49408 },
      });
      assert.equal(clip.resolution, 32);
      assert.equal(clip.embedDim, 32);
      assert.equal(clip.name, file);
      assert.deepEqual(clip.tokenize(manifest.texts).data, tokens.data);
      await checkFeatures(clip);
    });
  }

  it('differentiates Σ cos(encode_image(x), encode_text(tokens[0])) with respect to x', async () => {
    const clip = await load(`${DIR}clip_state_dict.pt`);
    const g = new Graph('clip_cosine_grad');
    const pixels = g.input('pixels', imageInput.shape);
    const ids = g.input('ids', [1, 77], 'int64');
    const endOfText = g.input('end_of_text', [1, 77]);
    const loss = cosineSum(imageEncoder(g, clip.weights, pixels), textEncoder(g, clip.weights, { ids, endOfText }));
    g.output('loss', loss);
    g.output('d_pixels', grad(loss, [pixels])[0]!);
    const session = await Session.fromGraph(g, { threads: 1 });
    const firstIds: Tensor<BigInt64Array> = { data: tokens.data.slice(0, 77), shape: [1, 77] };
    const r = await session.run({ pixels: imageInput, ids: firstIds, end_of_text: endOfTextSelector(firstIds) });
    await session.release();
    assert.ok(Math.abs(r.loss!.data[0]! - 0.49395012855529785) < 1e-5, `loss ${r.loss!.data[0]}`);
    assertClose(r.d_pixels!, await golden(SET, 'dcos_dimage.npy'), GRADIENT, 'dcos_dimage');
  });

  it('reads the same weights in Hugging Face CLIPModel layout (safetensors)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ganvec-clip-hf-'));
    try {
      const file = join(dir, 'model.safetensors');
      await writeSafetensors(file, huggingFaceLayout((await readCheckpoint(`${DIR}clip_state_dict.pt`)).tensors as Map<string, Tensor>));
      const clip = await load(file);
      assert.equal(clip.source.format, 'huggingface-safetensors');
      await checkFeatures(clip);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function transposed(t: Tensor): Tensor {
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
  return { data: out, shape: [c, r] };
}

/**
 * OpenAI names → Hugging Face `CLIPModel` names, as transformers' conversion script lays them out:
 * in_proj split into q/k/v rows, the projections transposed to nn.Linear weights, position_ids added.
 */
function huggingFaceLayout(openai: Map<string, Tensor>): Map<string, Tensor> {
  const hf = new Map<string, Tensor>();
  const get = (name: string) => {
    const t = openai.get(name);
    assert.ok(t, `fixture has ${name}`);
    return t;
  };
  const encoder = (from: string, to: string) => {
    for (let i = 0; openai.has(`${from}.${i}.attn.in_proj_weight`); i++) {
      const src = `${from}.${i}`;
      const dst = `${to}.encoder.layers.${i}`;
      const w = get(`${src}.attn.in_proj_weight`);
      const b = get(`${src}.attn.in_proj_bias`);
      const width = w.shape[1]!;
      ['q', 'k', 'v'].forEach((name, k) => {
        hf.set(`${dst}.self_attn.${name}_proj.weight`, { data: w.data.slice(k * width * width, (k + 1) * width * width), shape: [width, width] });
        hf.set(`${dst}.self_attn.${name}_proj.bias`, { data: b.data.slice(k * width, (k + 1) * width), shape: [width] });
      });
      const rename: Array<[string, string]> = [
        ['attn.out_proj', 'self_attn.out_proj'], ['ln_1', 'layer_norm1'], ['ln_2', 'layer_norm2'], ['mlp.c_fc', 'mlp.fc1'], ['mlp.c_proj', 'mlp.fc2'],
      ];
      for (const [a, z] of rename) {
        for (const p of ['weight', 'bias']) hf.set(`${dst}.${z}.${p}`, get(`${src}.${a}.${p}`));
      }
    }
  };
  const copy = (from: string, to: string) => hf.set(to, get(from));
  copy('visual.class_embedding', 'vision_model.embeddings.class_embedding');
  copy('visual.conv1.weight', 'vision_model.embeddings.patch_embedding.weight');
  copy('visual.positional_embedding', 'vision_model.embeddings.position_embedding.weight');
  // HF stores position_ids as int64; the writer here is float32-only, and the loader ignores them either way.
  hf.set('vision_model.embeddings.position_ids', { data: Float32Array.from({ length: 17 }, (_, i) => i), shape: [1, 17] });
  for (const p of ['weight', 'bias']) {
    copy(`visual.ln_pre.${p}`, `vision_model.pre_layrnorm.${p}`);
    copy(`visual.ln_post.${p}`, `vision_model.post_layernorm.${p}`);
    copy(`ln_final.${p}`, `text_model.final_layer_norm.${p}`);
  }
  encoder('visual.transformer.resblocks', 'vision_model');
  hf.set('visual_projection.weight', transposed(get('visual.proj')));
  copy('token_embedding.weight', 'text_model.embeddings.token_embedding.weight');
  copy('positional_embedding', 'text_model.embeddings.position_embedding.weight');
  encoder('transformer.resblocks', 'text_model');
  hf.set('text_projection.weight', transposed(get('text_projection')));
  copy('logit_scale', 'logit_scale');
  return hf;
}
