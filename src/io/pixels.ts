/**
 * The 8-bit value of one generator output, as NVIDIA's generate.py converts images:
 * `(img * 127.5 + 128).clamp(0, 255).to(torch.uint8)`. Each step is rounded to float32 as PyTorch computes
 * it; the cast truncates toward zero, so +128 (not +127.5) puts mid-grey exactly on 128 and −1…1 spans
 * 0.5…255.5 before the clamp. Pure, so the web viewer converts its canvas pixels by the same rule.
 */
export function pixelByte(x: number): number {
  const v = Math.fround(Math.fround(x * 127.5) + 128);
  // NaN fails both comparisons and becomes 0.
  return v >= 255 ? 255 : v > 0 ? Math.trunc(v) : 0;
}
