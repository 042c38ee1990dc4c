import { describe, expect, it } from 'vitest';
import { type DenoiseInput, eulerStep, sampleImages } from '../../../inference/runtime/diffusion.js';

const knots = [
  [0, 1],
  [1, 4],
] as const;

describe('rectified-flow x0 sampler', () => {
  it('follows x <- t_next * eps_hat + (1 - t_next) * x0 with a constant predictor', async () => {
    // predictor always says x0 = 0.5: eps_hat = (x - (1-t) 0.5) / t. Start x = 1 (t = 1).
    const calls: DenoiseInput[] = [];
    const x0 = await sampleImages(
      [{ codes: [0, 1, 2, 3], keep: 4, noise: Float32Array.of(1) }],
      async (input) => {
        calls.push({ ...input, xT: input.xT.slice(), mask: input.mask.slice() });
        return new Float32Array(input.xT.length).fill(0.5);
      },
      { knots, perImage: 4, steps: 2 },
    );
    expect(calls.map((c) => c.xT[0])).toEqual([1, 0.75]); // t=0.5: eps = 1, x = 0.5 * 1 + 0.5 * 0.5
    expect(calls.map((c) => c.t[0])).toEqual([1, 0.5]);
    expect(Array.from(calls[0]!.mask)).toEqual([1, 1, 1, 1]); // k(1) = 4
    expect(Array.from(calls[1]!.mask)).toEqual([1, 1, 1, 0]); // k(0.5) = ceil(2.5) = 3
    expect(Array.from(calls[0]!.codes)).toEqual([0n, 1n, 2n, 3n]);
    expect(Array.from(x0)).toEqual([0.5]);
  });

  it('clamps x0 to [-1, 1] and batches images with their own keep', async () => {
    const masks: number[][] = [];
    const x0 = await sampleImages(
      [
        { codes: [1, 1, 1, 1], keep: 4, noise: Float32Array.of(0.1, 0.2) },
        { codes: [2, 2, 2, 2], keep: 1, noise: Float32Array.of(0.3, 0.4) },
      ],
      async (input) => {
        masks.push(Array.from(input.mask));
        expect(input.batch).toBe(2);
        return Float32Array.of(5, -5, 0.25, -0.25);
      },
      { knots, perImage: 4, steps: 1 },
    );
    expect(masks).toEqual([[1, 1, 1, 1, 0, 0, 0, 1]]);
    expect(Array.from(x0)).toEqual([1, -1, 0.25, -0.25]);
  });

  it('stops between steps when beforeStep throws', async () => {
    let evaluations = 0;
    const run = sampleImages(
      [{ codes: [0, 0, 0, 0], keep: 4, noise: Float32Array.of(0) }],
      async (input) => {
        evaluations++;
        return new Float32Array(input.xT.length);
      },
      {
        knots,
        perImage: 4,
        steps: 5,
        beforeStep: (i) => {
          if (i === 2) throw new Error('stop');
        },
      },
    );
    await expect(run).rejects.toThrow('stop');
    expect(evaluations).toBe(2);
  });

  it('updates x and the clamped x0 in place, one element at a time', () => {
    const x = Float32Array.of(1, 0.5, -2);
    const x0 = Float32Array.of(0.5, 3, -0.25);
    eulerStep(x, x0, 0.5, 0.25, -1, 1);
    expect(Array.from(x0)).toEqual([0.5, 1, -0.25]); // clamped
    // eps = (x - 0.5 x0) / 0.5; x' = 0.25 eps + 0.75 x0
    expect(Array.from(x)).toEqual([0.75, 0.75, -1.125].map(Math.fround));
    const free = Float32Array.of(3);
    eulerStep(Float32Array.of(1), free, 0.5, 0, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
    expect(Array.from(free)).toEqual([3]); // latent space: no clamp
  });
});
