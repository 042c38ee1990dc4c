import { describe, expect, it } from 'vitest';
import {
  REROLL_STEPS,
  REROLL_TEMPERATURE,
  rerollParams,
  VARIATION_STEPS,
  variationKeep,
} from '../../../bot/interactions/handle-button.js';

describe('re-roll parameters', () => {
  it('drops the seed, samples image tokens and decodes with the seeded sampler, keeping explicit values', () => {
    expect(rerollParams({ kind: 'imagine', prompt: 'two red circles', count: 1, seed: '7' })).toEqual({
      kind: 'imagine',
      prompt: 'two red circles',
      count: 1,
      temperature: REROLL_TEMPERATURE,
      steps: REROLL_STEPS,
    });
    expect(
      rerollParams({ kind: 'edit', instruction: 'remove it', count: 2, seed: '1', temperature: 1, steps: 4 }),
    ).toEqual({
      kind: 'edit',
      instruction: 'remove it',
      count: 2,
      temperature: 1,
      steps: 4,
    });
    expect(REROLL_STEPS).toBeGreaterThan(0); // 0 is the renderer, which ignores the seed
  });

  it('only drops the seed of jobs without image tokens to sample', () => {
    expect(rerollParams({ kind: 'blend', amount: 0.5, seed: '3' })).toEqual({ kind: 'blend', amount: 0.5 });
    expect(rerollParams({ kind: 'variation', tokens: [1, 2], keep: 1, seed: '4', steps: 10 })).toEqual({
      kind: 'variation',
      tokens: [1, 2],
      keep: 1,
      steps: 10,
    });
  });

  it('keeps half the tokens of a variation and decodes it with several steps', () => {
    expect(variationKeep(16)).toBe(8);
    expect(variationKeep(1)).toBe(1);
    expect(VARIATION_STEPS).toBeGreaterThan(1);
  });
});
