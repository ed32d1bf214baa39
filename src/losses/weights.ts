/** Loss names as `--loss name=weight,…` and the training configuration spell them. */
export const LOSS_NAMES = ['direction', 'indomain', 'offsets_l2'] as const;
export type LossName = (typeof LOSS_NAMES)[number];
export type LossWeights = Record<LossName, number>;

/** Parses `direction=1,indomain=0.5`; unnamed losses keep `defaults`. */
export function parseLossWeights(spec: string, defaults: LossWeights): LossWeights {
  const out = { ...defaults };
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = part.split('=');
    if (!LOSS_NAMES.includes(name as LossName)) {
      throw new Error(`unknown loss "${name}" (known: ${LOSS_NAMES.join(', ')})`);
    }
    const weight = Number(value);
    if (value === undefined || !Number.isFinite(weight) || weight < 0) throw new Error(`loss ${name} needs a weight ≥ 0, as ${name}=1`);
    out[name as LossName] = weight;
  }
  if (!LOSS_NAMES.some((n) => out[n] > 0)) throw new Error('every loss weight is 0: nothing to train');
  return out;
}
