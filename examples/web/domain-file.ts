/**
 * Reading a domain file (.dv.safetensors) in the browser: the safetensors header (8-byte little-endian
 * length, then JSON), the `__metadata__` the ganvec writer puts there, and one float32 tensor per layer
 * in the order of its `layers` metadata. Checked against the exported model as `generate` checks a file
 * against a generator: same weights (fingerprint), parameterisation and layers.
 */
export interface ModelFacts {
  base_fingerprint: string;
  parameterisation: string;
  domain_layers: Array<{ name: string; dim: number }>;
}

export function readDomainBytes(bytes: ArrayBuffer, name: string, model: ModelFacts): Float32Array {
  const fail = (problem: string) => new Error(`${name}: ${problem}`);
  const view = new DataView(bytes);
  if (bytes.byteLength < 8) throw fail('too short to be a safetensors file');
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8) throw fail('not a safetensors file (its header runs past the end)');
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 8, headerLength)));
  } catch {
    throw fail('not a safetensors file (its header is not JSON)');
  }
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  if (metadata.format !== 'ganvec-domain') throw fail('not a ganvec domain file');
  if (metadata.base_fingerprint !== model.base_fingerprint) {
    throw fail(`trained on ${metadata.base_model} (fingerprint ${metadata.base_fingerprint}), not on this model's weights (${model.base_fingerprint})`);
  }
  const parameterisation = metadata.parameterisation ?? 'domain-vector';
  if (parameterisation !== model.parameterisation) throw fail(`holds ${parameterisation} values; this model takes ${model.parameterisation}`);
  const layers = JSON.parse(metadata.layers ?? '[]') as Array<{ name: string; dim: number }>;
  const describe = (list: Array<{ name: string; dim: number }>) => list.map((l) => `${l.name}:${l.dim}`).join(' ');
  if (describe(layers) !== describe(model.domain_layers)) throw fail(`its layers (${describe(layers)}) are not this model's (${describe(model.domain_layers)})`);

  const vector = new Float32Array(layers.reduce((n, l) => n + l.dim, 0));
  let offset = 0;
  for (const { name: layer, dim } of layers) {
    const t = header[layer] as { dtype: string; shape: number[]; data_offsets: [number, number] } | undefined;
    if (!t || t.dtype !== 'F32' || t.shape.length !== 1 || t.shape[0] !== dim) throw fail(`layer ${layer} is not a float32 [${dim}] tensor`);
    const [start, end] = t.data_offsets;
    if (end - start !== dim * 4 || 8 + headerLength + end > bytes.byteLength) throw fail(`layer ${layer} lies outside the file`);
    // Copied out: tensor data need not be 4-byte aligned in the file.
    vector.set(new Float32Array(bytes.slice(8 + headerLength + start, 8 + headerLength + end)), offset);
    offset += dim;
  }
  for (let i = 0; i < vector.length; i++) if (!Number.isFinite(vector[i]!)) throw fail(`holds ${vector[i]} at flat index ${i}`);
  return vector;
}
