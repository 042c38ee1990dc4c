/** Pure request checks: text, counts, sampling ranges, blend ranges, reveal frame choice. */
import { describe, expect, it } from 'vitest';
import type { ModelDescription } from '../../../inference/runtime/api.js';
import {
  checkText,
  chooseRevealKeeps,
  resolveBlendRange,
  resolveImageCount,
  resolveKeep,
} from '../../../inference/server/request-checks.js';
import { resolveSampling, resolveSeed } from '../../../inference/server/sampling.js';
import { FakeRuntime } from './fake-runtime.js';

const desc: ModelDescription = new FakeRuntime().description;

describe('request checks', () => {
  it('trims text and counts characters, not UTF-16 units', () => {
    expect(checkText('  hi  ', 'prompt', 5)).toBe('hi');
    expect(checkText('🟥🟥🟥', 'prompt', 3)).toBe('🟥🟥🟥');
    expect(() => checkText('🟥🟥🟥🟥', 'prompt', 3)).toThrow(/4 characters; the limit is 3/);
    expect(() => checkText(' \n ', 'prompt', 3)).toThrow(/prompt is empty/);
  });

  it('maps num_images 0 to 1 and refuses more than 4', () => {
    expect(resolveImageCount(0)).toBe(1);
    expect(resolveImageCount(4)).toBe(4);
    expect(() => resolveImageCount(5)).toThrow(/1-4/);
  });

  it('fills unset sampling fields from the model defaults and checks ranges', () => {
    const p = resolveSampling({ seed: '18446744073709551615', temperature: 0 }, desc);
    expect(p).toEqual({
      seed: 18446744073709551615n,
      guidanceScale: 3,
      temperature: 0,
      topK: 0,
      topP: 1,
      steps: 10,
    });
    expect(() => resolveSampling({ guidance_scale: 21 }, desc)).toThrow(/guidance_scale/);
    expect(() => resolveSampling({ top_p: 0 }, desc)).toThrow(/top_p must be in \(0, 1\]/);
    expect(() => resolveSampling({ steps: 51 }, desc)).toThrow(/steps/);
    expect(() => resolveSampling({ temperature: Number.NaN }, desc)).toThrow(/temperature/);
  });

  it('draws different random seeds when none is given', () => {
    expect(resolveSeed(undefined)).not.toBe(resolveSeed(undefined));
  });

  it('turns amount into the coarsest code indices, and checks explicit ranges', () => {
    expect(resolveBlendRange(0, 0, 0.5, 16)).toEqual({ from: 8, to: 16 });
    expect(resolveBlendRange(0, 0, 1, 16)).toEqual({ from: 0, to: 16 });
    expect(resolveBlendRange(2, 5, 0, 16)).toEqual({ from: 2, to: 5 });
    expect(() => resolveBlendRange(3, 17, 0, 16)).toThrow(/to_index <= 16/);
    expect(() => resolveBlendRange(0, 0, 1.5, 16)).toThrow(/amount/);
  });

  it('keeps 0 as all tokens', () => {
    expect(resolveKeep(0, 16)).toBe(16);
    expect(() => resolveKeep(17, 16)).toThrow(/keep/);
  });

  it('reveals every count for small K and a bounded, increasing set ending at K for large K', () => {
    expect(chooseRevealKeeps(16, 32)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const keeps = chooseRevealKeeps(256, 32);
    expect(keeps.length).toBeLessThanOrEqual(33);
    expect(keeps[0]).toBe(1);
    expect(keeps.at(-1)).toBe(256);
    expect([...keeps].sort((a, b) => a - b)).toEqual(keeps);
  });
});
