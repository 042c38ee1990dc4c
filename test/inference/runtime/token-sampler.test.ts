import { describe, expect, it } from 'vitest';
import {
  applyGuidance,
  argmaxAllowed,
  drawFromProbabilities,
  logSoftmaxAt,
  sampleToken,
  tokenProbabilities,
} from '../../../inference/runtime/token-sampler.js';

const all = (n: number) => new Uint8Array(n).fill(1);
const off = { temperature: 1, topK: 0, topP: 1 };

describe('token sampler', () => {
  it('combines guidance as uncond + s * (cond - uncond)', () => {
    const g = applyGuidance(Float32Array.of(1, 2), Float32Array.of(0, 4), 3);
    expect(Array.from(g)).toEqual([3, -2]);
  });

  it('greedy picks the highest allowed logit, ties -> lowest id', () => {
    expect(argmaxAllowed([1, 5, 5, 2], all(4))).toBe(1);
    expect(argmaxAllowed([1, 5, 5, 9], Uint8Array.of(1, 0, 1, 0))).toBe(2);
    expect(sampleToken([0, 3, 1], all(3), { ...off, temperature: 0 }, 0.999)).toBe(1);
    expect(() => argmaxAllowed([1], Uint8Array.of(0))).toThrow(/no token/);
  });

  it('softmax over allowed ids with temperature', () => {
    const p = tokenProbabilities([0, Math.log(3), 100], Uint8Array.of(1, 1, 0), off);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(p[2]).toBe(0);
    const hot = tokenProbabilities([0, Math.log(3)], all(2), { ...off, temperature: 2 });
    expect(hot[1]! / hot[0]!).toBeCloseTo(Math.sqrt(3), 12);
  });

  it('top-k keeps the k best, ties broken by lower id', () => {
    const p = tokenProbabilities([1, 2, 2, 0], all(4), { ...off, topK: 2 });
    expect(Array.from(p)).toEqual([0, 0.5, 0.5, 0]);
    const q = tokenProbabilities([2, 1, 2, 2], all(4), { ...off, topK: 1 });
    expect(Array.from(q)).toEqual([1, 0, 0, 0]);
  });

  it('top-p keeps the smallest high-probability set with mass >= p', () => {
    // probabilities 0.1, 0.2, 0.3, 0.4 (ids 0..3)
    const logits = [0.1, 0.2, 0.3, 0.4].map(Math.log);
    const p = tokenProbabilities(logits, all(4), { ...off, topP: 0.7 });
    expect(p[0]).toBe(0);
    expect(p[1]).toBe(0);
    expect(p[2]).toBeCloseTo(0.3 / 0.7, 12);
    expect(p[3]).toBeCloseTo(0.4 / 0.7, 12);
    const q = tokenProbabilities(logits, all(4), { ...off, topP: 0.71 });
    expect(q[1]).toBeCloseTo(0.2 / 0.9, 12);
    // equal probabilities: lower ids enter the nucleus first
    const r = tokenProbabilities([0, 0, 0, 0], all(4), { ...off, topP: 0.5 });
    expect(Array.from(r)).toEqual([0.5, 0.5, 0, 0]);
  });

  it('draws by walking ids in ascending order until cumulative > u', () => {
    const p = Float64Array.of(0.25, 0, 0.5, 0.25);
    expect(drawFromProbabilities(p, 0)).toBe(0);
    expect(drawFromProbabilities(p, 0.2499)).toBe(0);
    expect(drawFromProbabilities(p, 0.25)).toBe(2);
    expect(drawFromProbabilities(p, 0.75)).toBe(3);
    expect(drawFromProbabilities(p, 0.9999999)).toBe(3);
    expect(drawFromProbabilities(Float64Array.of(0.3, 0.3, 0), 0.99)).toBe(1); // rounding: last kept id
  });

  it('samples end to end with masking', () => {
    const allowed = Uint8Array.of(0, 1, 1);
    expect(sampleToken([50, 0, 0], allowed, off, 0.49)).toBe(1);
    expect(sampleToken([50, 0, 0], allowed, off, 0.51)).toBe(2);
  });
});

describe('logSoftmaxAt', () => {
  it('normalises over the ids from..to-1 only', () => {
    const logits = new Float32Array([5, 1, 2, 3, 9]);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expect(logSoftmaxAt(logits, 1, 4, 3)).toBeCloseTo(3 - Math.log(z), 12);
    expect(logSoftmaxAt(logits, 1, 4, 1)).toBeCloseTo(1 - Math.log(z), 12);
  });
});
