/** Domain files (DESIGN.md §6): round trip, validation, and loading onto the generator they belong to. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  baseModelMetadata,
  loadDomainVector,
  readDomainFile,
  writeDomainFile,
  type DomainFile,
} from '../src/domains/domain-file.js';
import { mixDomainVectors } from '../src/domains/weighted-sum.js';
import { writeNpy } from '../src/io/npy.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import type { Generator } from '../src/generators/generator.js';
import { loadGenerator } from '../src/registry/load.js';
import { VERSION } from '../src/version.js';
import { golden, GOLDENS } from './helpers/golden.js';

const ROSINALITY = `${GOLDENS}sg2-tiny-a/ckpt.pt`;
const NVIDIA = `${GOLDENS}sg2ada-tiny-a/network-snapshot.pkl`;

const TRAINING = { prompt: 'pixar', losses: '{"direction":1,"indomain":0.5}', iterations: '300', clip_models: 'ViT-B/32,ViT-B/16', seed: '0' };

describe('domain files', () => {
  let dir: string;
  let rosinality: Generator;
  let nvidia: Generator;
  let vector: Float32Array;
  let file: DomainFile;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ganvec-domain-'));
    // Loading reads the weights only; no ONNX session is built until something is generated.
    rosinality = await loadGenerator(ROSINALITY);
    nvidia = await loadGenerator(NVIDIA);
    vector = (await golden('sg2-tiny-a', 'domain.npy')).data;
    file = { vector, layers: rosinality.domainLayers, metadata: { ...baseModelMetadata(rosinality), ...TRAINING, source_text: 'photo' } };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('round trip: per-layer F32 tensors, metadata with provenance and caller extras, no temporary files', async () => {
    const path = join(dir, 'pixar.dv.safetensors');
    await writeDomainFile(path, file);
    assert.deepEqual(await readdir(dir), ['pixar.dv.safetensors']);

    const back = await readDomainFile(path);
    assert.deepEqual(back.vector, vector);
    assert.deepEqual(back.layers, rosinality.domainLayers);
    assert.equal(back.metadata.format, 'ganvec-domain');
    assert.equal(back.metadata.format_version, '1');
    assert.equal(back.metadata.tool_version, VERSION);
    assert.equal(back.metadata.base_model, 'ckpt');
    assert.equal(back.metadata.base_fingerprint, rosinality.source.fingerprint);
    assert.equal(back.metadata.source_text, 'photo');
    assert.equal(back.metadata.losses, TRAINING.losses);
    assert.deepEqual(JSON.parse(back.metadata.layers!), rosinality.domainLayers);

    // As Python's safetensors sees it: one named 1-D float32 tensor per layer.
    const raw = await readSafetensors(path);
    assert.deepEqual([...raw.tensors.keys()], ['conv1', 'convs.0', 'convs.1', 'convs.2', 'convs.3', 'convs.4', 'convs.5']);
    assert.deepEqual(raw.tensors.get('convs.3')!.shape, [24]);
    assert.equal(raw.tensors.get('convs.3')!.storedAs, 'float32');
    assert.deepEqual(raw.tensors.get('convs.0')!.data, vector.subarray(32, 64));
  });

  test('loads onto the generator it was trained on, in any file layout of the same weights', async () => {
    const path = join(dir, 'load.dv.safetensors');
    await writeDomainFile(path, file);
    assert.deepEqual(await loadDomainVector(path, rosinality), vector);
    const strided = await loadGenerator(`${GOLDENS}sg2-tiny-a/ckpt_strided.pt`);
    assert.deepEqual(await loadDomainVector(path, strided), vector);
  });

  test('layer order comes from the metadata, not from the order of the data (Python writers sort by name)', async () => {
    const layers = Array.from({ length: 12 }, (_, i) => ({ name: i === 0 ? 'conv1' : `convs.${i - 1}`, dim: 2 }));
    const flat = Float32Array.from({ length: 24 }, (_, i) => i);
    const sorted = [...layers].sort((a, b) => (a.name < b.name ? -1 : 1));
    assert.equal(sorted[3]!.name, 'convs.10', 'the test needs an order that differs');
    const tensors = new Map(sorted.map(({ name }) => {
      const at = layers.findIndex((l) => l.name === name) * 2;
      return [name, { data: flat.slice(at, at + 2), shape: [2] }];
    }));
    const path = join(dir, 'sorted.dv.safetensors');
    await writeSafetensors(path, tensors, { format: 'ganvec-domain', format_version: '1', base_model: 'x', base_fingerprint: 'y', layers: JSON.stringify(layers) });
    const back = await readDomainFile(path);
    assert.deepEqual(back.layers, layers);
    assert.deepEqual(back.vector, flat);
  });

  test('a domain file for another generator is refused with both models and both fingerprints', async () => {
    const path = join(dir, 'pixar.dv.safetensors');
    await writeDomainFile(path, file);
    await assert.rejects(loadDomainVector(path, nvidia), (err: Error) => {
      assert.ok(err.message.includes(`domain file ${path} was trained on ckpt (fingerprint ${rosinality.source.fingerprint})`), err.message);
      assert.ok(err.message.includes(`this generator is network-snapshot (fingerprint ${nvidia.source.fingerprint})`), err.message);
      return true;
    });
  });

  test('a raw flat .npy needs the generator\'s length, and says what that is', async () => {
    const flat = join(dir, 'flat.npy');
    await writeNpy(flat, { data: vector, shape: [1, vector.length] });
    assert.deepEqual(await loadDomainVector(flat, rosinality), vector);
    await assert.rejects(loadDomainVector(`${GOLDENS}sg2ada-tiny-a/domain.npy`, rosinality), /flat float array of 192 values for this generator \(conv1 32 \+ convs\.0 32.*\); this one has shape \[188\]/);
    const square = join(dir, 'square.npy');
    await writeNpy(square, { data: new Float32Array(192), shape: [12, 16] });
    await assert.rejects(loadDomainVector(square, rosinality), /flat float array of 192 values.*\[12, 16\]/);
  });

  test('truncated or corrupt files are refused naming the file', async () => {
    const path = join(dir, 'whole.dv.safetensors');
    await writeDomainFile(path, file);
    const bytes = await readFile(path);
    const truncated = join(dir, 'truncated.dv.safetensors');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 10));
    await assert.rejects(loadDomainVector(truncated, rosinality), (err: Error) => err.message.startsWith(`${truncated}: `) && /past the end/.test(err.message));
    const garbage = join(dir, 'garbage.dv.safetensors');
    await writeFile(garbage, Buffer.from('this is not a domain file at all'));
    await assert.rejects(readDomainFile(garbage), (err: Error) => err.message.startsWith(`${garbage}: safetensors: `));
  });

  test('NaN or infinity is refused on write and on read, naming the layer and index', async () => {
    const poisoned = Float32Array.from(vector);
    poisoned[70] = NaN;
    await assert.rejects(writeDomainFile(join(dir, 'nan.dv.safetensors'), { ...file, vector: poisoned }), /NaN at convs\.1\[6\] \(flat index 70\)/);

    // A file written by something else: valid metadata, an infinity in its data.
    const path = join(dir, 'inf.dv.safetensors');
    const layers = [{ name: 'conv1', dim: 3 }];
    await writeSafetensors(path, { conv1: { data: Float32Array.of(0, Infinity, 0), shape: [3] } }, { format: 'ganvec-domain', format_version: '1', base_model: 'x', base_fingerprint: 'y', layers: JSON.stringify(layers) });
    await assert.rejects(readDomainFile(path), /Infinity at conv1\[1\]/);
  });

  test('values whose images would overflow float32 are refused on load: the per-layer largest |1 + d| may multiply to 1e30', async () => {
    // 7 layers: (1 + d)^7 crosses 1e30 between d = 19,000 and d = 20,000.
    const path = join(dir, 'uniform.npy');
    await writeNpy(path, { data: new Float32Array(192).fill(19_000), shape: [192] });
    assert.equal((await loadDomainVector(path, rosinality))[0], 19_000);
    await writeNpy(path, { data: new Float32Array(192).fill(20_000), shape: [192] });
    await assert.rejects(loadDomainVector(path, rosinality), (err: Error) =>
      err.message.startsWith(`${path}: the domain vector is too large: the largest |1 + d| of each layer multiply to 1.3e+30`));
    const spike = Float32Array.from(vector);
    spike[40] = -1e31;
    await writeNpy(path, { data: spike, shape: [192] });
    await assert.rejects(loadDomainVector(path, rosinality), /the largest value is -1e\+31 at convs\.0\[8\] \(flat index 40\)/);
  });

  test('other safetensors files, other versions and inconsistent layers are refused', async () => {
    const meta = { format: 'ganvec-domain', format_version: '1', base_model: 'x', base_fingerprint: 'y', layers: '[{"name":"conv1","dim":2}]' };
    const { base_fingerprint: _fingerprint, ...withoutFingerprint } = meta;
    const cases: Array<[string, Record<string, { data: Float32Array; shape: number[] }>, Record<string, string>, RegExp]> = [
      ['plain', { conv1: { data: new Float32Array(2), shape: [2] } }, {}, /not a ganvec domain file: its safetensors metadata has no format/],
      ['future', { conv1: { data: new Float32Array(2), shape: [2] } }, { ...meta, format_version: '2' }, /format_version "2"; this ganvec .* reads version 1/],
      ['two-d', { conv1: { data: new Float32Array(2), shape: [1, 2] } }, meta, /tensor conv1 is float32 \[1, 2\]; a domain layer must be float32 \[2\]/],
      ['extra', { conv1: { data: new Float32Array(2), shape: [2] }, 'convs.0': { data: new Float32Array(2), shape: [2] } }, meta, /tensors convs\.0 are not in its "layers" metadata/],
      ['missing', {}, meta, /layer conv1 is listed in its metadata but has no tensor/],
      ['no-fingerprint', { conv1: { data: new Float32Array(2), shape: [2] } }, withoutFingerprint, /lacks base_fingerprint/],
    ];
    for (const [name, tensors, metadata, expected] of cases) {
      const path = join(dir, `${name}.dv.safetensors`);
      await writeSafetensors(path, tensors, metadata);
      await assert.rejects(readDomainFile(path), expected, name);
    }
  });

  test('the writer requires provenance and a vector that fills the layers', async () => {
    const path = join(dir, 'bad.dv.safetensors');
    const { prompt: _prompt, seed: _seed, ...partial } = file.metadata;
    await assert.rejects(writeDomainFile(path, { ...file, metadata: partial }), /metadata lacks seed, prompt or image_set/);
    await assert.rejects(writeDomainFile(path, { ...file, vector: vector.subarray(1) }), /the vector has 191 values but the layers add up to 192/);
    await writeDomainFile(path, { ...file, metadata: { ...partial, seed: '1', image_set: 'sha256:abc' } });
    assert.equal((await readDomainFile(path)).metadata.image_set, 'sha256:abc');
  });

  test('mixDomainVectors is a weighted sum of equally long vectors', () => {
    const a = Float32Array.of(1, 2, 3);
    const b = Float32Array.of(-1, 0, 1);
    assert.deepEqual(mixDomainVectors([a, b], [0.5, 2]), Float32Array.of(-1.5, 1, 3.5));
    assert.deepEqual(mixDomainVectors([a], [0]), Float32Array.of(0, 0, 0));
    assert.throws(() => mixDomainVectors([a, Float32Array.of(1)], [1, 1]), /vector 1 has 1 values, vector 0 has 3/);
    assert.throws(() => mixDomainVectors([a], [1, 1]), /1 vectors but 2 weights/);
  });
});
