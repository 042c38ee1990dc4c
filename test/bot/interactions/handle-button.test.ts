import { describe, expect, it } from 'vitest';
import {
  REROLL_TEMPERATURE,
  rerollParams,
  VARIATION_STEPS,
  variationKeep,
} from '../../../bot/interactions/handle-button.js';

describe('re-roll parameters', () => {
  it('drops the seed and samples image tokens, keeping an explicit temperature', () => {
    expect(rerollParams({ kind: 'imagine', prompt: 'two red circles', count: 1, seed: '7' })).toEqual({
      kind: 'imagine',
      prompt: 'two red circles',
      count: 1,
      temperature: REROLL_TEMPERATURE,
    });
    expect(
      rerollParams({ kind: 'edit', instruction: 'remove it', count: 2, seed: '1', temperature: 1 }),
    ).toEqual({
      kind: 'edit',
      instruction: 'remove it',
      count: 2,
      temperature: 1,
    });
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
