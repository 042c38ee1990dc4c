import { describe, expect, it } from 'vitest';
import {
  createNoiseRng,
  createTokenRng,
  fillNormal,
  NOISE_SEED_XOR,
  SplitMix64,
  seedForCandidate,
  seedForImage,
} from '../../../inference/runtime/rng.js';

// Reference values: the published SplitMix64 vectors (seed 0, seed 1234567) and an independent
// Python implementation with arbitrary-precision ints (the spec in rng.ts).
describe('SplitMix64', () => {
  it('matches published u64 outputs', () => {
    const r0 = new SplitMix64(0n);
    expect([r0.next(), r0.next(), r0.next()]).toEqual([
      0xe220a8397b1dcdafn,
      0x6e789e6aa1b965f4n,
      0x06c45d188009454fn,
    ]);
    const r1 = new SplitMix64(1234567n);
    expect([r1.next(), r1.next(), r1.next()]).toEqual([
      0x599ed017fb08fc85n,
      0x2c73f08458540fa5n,
      0x883ebce5a3f27c77n,
    ]);
  });

  it('wraps the state at 2^64', () => {
    const r = new SplitMix64(2n ** 64n - 1n);
    expect([r.next(), r.next()]).toEqual([0xe4d971771b652c20n, 0xe99ff867dbf682c9n]);
  });

  it('derives uniforms from the top 53 bits', () => {
    const r = new SplitMix64(42n);
    expect([r.uniform(), r.uniform(), r.uniform()]).toEqual([
      0.7415648787718233, 0.1599103928769201, 0.27860113025513866,
    ]);
  });

  it('draws Box-Muller normals from two uniforms each', () => {
    const r = new SplitMix64(42n);
    const got = [r.normal(), r.normal(), r.normal()];
    const want = [0.8822489062222688, -0.4508498757188601, 0.1883526341159315];
    got.forEach((g, i) => {
      expect(g).toBeCloseTo(want[i]!, 14);
    });
  });

  it('seeds images and their noise generators as specified', () => {
    expect(seedForImage(2n ** 64n - 1n, 2)).toBe(1n);
    expect(seedForImage(10n, 3)).toBe(13n);
    // candidates: seed * 0x9E3779B97F4A7C15 + j mod 2^64 (Python: training/ddt/rng.py, candidate_seed)
    expect(seedForCandidate(12345n, 3)).toBe(11613906214716018864n);
    expect(seedForCandidate(2n ** 64n - 1n, 1)).toBe(7046029254386353132n);
    const noise = createNoiseRng(7n);
    expect(noise.normal()).toBeCloseTo(0.39680052936559296, 14);
    expect(noise.normal()).toBeCloseTo(0.26306068355551504, 14);
    expect(createTokenRng(7n).next()).toBe(new SplitMix64(7n).next());
    expect(new SplitMix64(7n ^ NOISE_SEED_XOR).next()).not.toBe(new SplitMix64(7n).next());
  });

  it('matches u64 BigInt arithmetic of the recipe over long runs', () => {
    const M = (1n << 64n) - 1n;
    const reference = (seed: bigint) => {
      let state = BigInt.asUintN(64, seed);
      return () => {
        state = (state + 0x9e3779b97f4a7c15n) & M;
        let z = state;
        z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
        z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
        return z ^ (z >> 31n);
      };
    };
    const seeds = [
      0n,
      1n,
      42n,
      2n ** 32n - 1n,
      2n ** 32n,
      2n ** 63n,
      2n ** 64n - 1n,
      0x0123456789abcdefn,
      -5n,
    ];
    for (const seed of seeds) {
      const step = reference(seed);
      const want = Array.from({ length: 2000 }, step);
      const r = new SplitMix64(seed);
      const u = new SplitMix64(seed);
      expect(want.map(() => r.next())).toEqual(want);
      expect(want.map(() => u.uniform())).toEqual(want.map((w) => Number(w >> 11n) * 2 ** -53));
    }
  });

  it('fills normals in order', () => {
    const a = fillNormal(new SplitMix64(5n), 4);
    const r = new SplitMix64(5n);
    const b = [r.normal(), r.normal(), r.normal(), r.normal()].map(Math.fround);
    expect(Array.from(a)).toEqual(b);
  });
});
