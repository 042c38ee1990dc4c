/**
 * k(t): how many code indices (0..k-1) the decoder may see at noise level t, and the resulting mask.
 * Piecewise-linear over manifest knots [[t, k], ...] (t ascending, 0..1):
 *   for t in [t0, t1]: k = ceil(k0 + (k1 - k0) * (t - t0) / (t1 - t0)), then clamp to [1, K].
 * Keeping m codes keeps the m COARSEST: code indices K-m .. K-1. mask[j] = (j < k(t)) && (j >= K - m).
 */

export type Knots = ReadonlyArray<readonly [number, number]>;

/** Number of visible code indices at noise level t (float64 arithmetic as documented above). */
export function visibleCount(knots: Knots, t: number, perImage: number): number {
  let k = knots.at(-1)![1];
  for (let i = 1; i < knots.length; i++) {
    const [t0, k0] = knots[i - 1]!;
    const [t1, k1] = knots[i]!;
    if (t <= t1) {
      const clampedT = Math.max(t, t0);
      k = k0 + ((k1 - k0) * (clampedT - t0)) / (t1 - t0);
      break;
    }
  }
  return Math.min(perImage, Math.max(1, Math.ceil(k)));
}

/** Writes the decoder mask for one image into `out` ([K] float, 1 = visible). */
export function writeTokenMask(out: Float32Array, visible: number, keep: number): void {
  const K = out.length;
  for (let j = 0; j < K; j++) out[j] = j < visible && j >= K - keep ? 1 : 0;
}

/** Noise levels t_i = 1 - i / steps for i = 0..steps. */
export function timesteps(steps: number): number[] {
  return Array.from({ length: steps + 1 }, (_, i) => 1 - i / steps);
}
