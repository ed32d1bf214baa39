/**
 * Adam on the host, as torch.optim.Adam computes it (bias-corrected moments, eps outside the sqrt).
 * The domain vector has a few thousand floats: a GPU kernel would cost more than the arithmetic.
 * State is float32 so that a resumed run continues bit for bit.
 */
export interface AdamState {
  m: Float32Array;
  v: Float32Array;
  /** Updates applied so far. */
  step: number;
}

export interface AdamConfig {
  lr: number;
  betas: [number, number];
  eps?: number;
}

export function adamInit(size: number): AdamState {
  return { m: new Float32Array(size), v: new Float32Array(size), step: 0 };
}

/** Updates `params` and `state` in place. */
export function adamStep(params: Float32Array, grad: Float32Array, state: AdamState, config: AdamConfig): void {
  const [b1, b2] = config.betas;
  const eps = config.eps ?? 1e-8;
  state.step += 1;
  const c1 = 1 - b1 ** state.step;
  const c2 = 1 - b2 ** state.step;
  for (let i = 0; i < params.length; i++) {
    const g = grad[i]!;
    state.m[i] = b1 * state.m[i]! + (1 - b1) * g;
    state.v[i] = b2 * state.v[i]! + (1 - b2) * g * g;
    params[i] = params[i]! - (config.lr * (state.m[i]! / c1)) / (Math.sqrt(state.v[i]! / c2) + eps);
  }
}
