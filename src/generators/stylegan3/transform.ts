/**
 * StyleGAN3's translate/rotate generation settings: gen_images.py's `make_transform(translate, angle)`,
 * whose inverse is what the generator's SynthesisInput takes as `transform` ("the generator expects this
 * matrix as an inverse to avoid potentially failing numerical operations in the network").
 */
import type { StyleGAN3 } from './architecture.js';

/** make_transform: [[c, s, tx], [−s, c, ty], [0, 0, 1]] with the angle in degrees; row-major. */
export function makeTransform(translate: readonly [number, number], degrees: number): Float64Array {
  const a = (degrees / 360) * 2 * Math.PI;
  const s = Math.sin(a);
  const c = Math.cos(a);
  return Float64Array.of(c, s, translate[0], -s, c, translate[1], 0, 0, 1);
}

/** The inverse of a rotation-and-translation matrix [[R, t], [0, 1]]: [[Rᵀ, −Rᵀt], [0, 1]]. */
export function invertRigid(m: Float64Array): Float64Array {
  const [r00, r01, tx, r10, r11, ty] = m as unknown as number[] as [number, number, number, number, number, number];
  return Float64Array.of(r00, r10, -(r00 * tx + r10 * ty), r01, r11, -(r01 * tx + r11 * ty), 0, 0, 1);
}

function parseNumbers(text: string, count: number, flag: string, placeholder: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.length !== count || parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v))) {
    throw new Error(`--${flag} takes ${placeholder}, got "${text}"`);
  }
  return values;
}

/** The generator with `input.transform` set from `translate` ("X,Y", in image units) and `rotate` (degrees). */
export function withTransform(G: StyleGAN3, values: Readonly<Record<string, string>>): StyleGAN3 {
  const [tx, ty] = values.translate === undefined ? [0, 0] : parseNumbers(values.translate, 2, 'translate', 'X,Y (two numbers)');
  const [deg] = values.rotate === undefined ? [0] : parseNumbers(values.rotate, 1, 'rotate', 'an angle in degrees');
  const transform = Float32Array.from(invertRigid(makeTransform([tx!, ty!], deg!)));
  return { ...G, input: { ...G.input, transform } };
}
