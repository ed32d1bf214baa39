/** The arithmetic of mixing domains, with no I/O, so the web viewer mixes by the same code. */

/** Σ weightᵢ · vectorᵢ: mixes domains (weights need not sum to 1; a single weight scales a domain's strength). */
export function mixDomainVectors(vectors: readonly Float32Array[], weights: readonly number[]): Float32Array {
  if (vectors.length === 0) throw new Error('mixDomainVectors: no vectors given');
  if (weights.length !== vectors.length) {
    throw new Error(`mixDomainVectors: ${vectors.length} vectors but ${weights.length} weights`);
  }
  const size = vectors[0]!.length;
  const sum = new Float64Array(size);
  vectors.forEach((v, i) => {
    if (v.length !== size) throw new Error(`mixDomainVectors: vector ${i} has ${v.length} values, vector 0 has ${size}`);
    const weight = weights[i]!;
    if (!Number.isFinite(weight)) throw new Error(`mixDomainVectors: weight ${i} is ${weight}`);
    for (let k = 0; k < size; k++) sum[k]! += weight * v[k]!;
  });
  return Float32Array.from(sum);
}
