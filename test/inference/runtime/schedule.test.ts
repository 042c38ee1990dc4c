import { describe, expect, it } from 'vitest';
import { timesteps, visibleCount, writeTokenMask } from '../../../inference/runtime/schedule.js';

const knots = [
  [0.0, 2],
  [0.25, 5],
  [0.5, 9],
  [0.75, 13],
  [1.0, 16],
] as const;

describe('k(t) schedule', () => {
  it('interpolates linearly between knots and rounds up', () => {
    expect(visibleCount(knots, 0, 16)).toBe(2);
    expect(visibleCount(knots, 0.1, 16)).toBe(4); // 2 + 3 * 0.4 = 3.2
    expect(visibleCount(knots, 0.25, 16)).toBe(5);
    expect(visibleCount(knots, 0.3, 16)).toBe(6); // 5 + 4 * 0.2 = 5.8
    expect(visibleCount(knots, 0.9, 16)).toBe(15); // 13 + 3 * 0.6 = 14.8
    expect(visibleCount(knots, 1, 16)).toBe(16);
  });

  it('clamps to [1, K]', () => {
    expect(
      visibleCount(
        [
          [0, 0],
          [1, 40],
        ],
        0,
        16,
      ),
    ).toBe(1);
    expect(
      visibleCount(
        [
          [0, 0],
          [1, 40],
        ],
        1,
        16,
      ),
    ).toBe(16);
  });

  it('masks j < k(t) among the kept coarsest codes K-m..K-1', () => {
    const mask = new Float32Array(6);
    writeTokenMask(mask, 6, 6);
    expect(Array.from(mask)).toEqual([1, 1, 1, 1, 1, 1]);
    writeTokenMask(mask, 6, 2);
    expect(Array.from(mask)).toEqual([0, 0, 0, 0, 1, 1]);
    writeTokenMask(mask, 5, 3);
    expect(Array.from(mask)).toEqual([0, 0, 0, 1, 1, 0]);
    writeTokenMask(mask, 2, 3);
    expect(Array.from(mask)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('steps t uniformly from 1 to 0', () => {
    expect(timesteps(4)).toEqual([1, 0.75, 0.5, 0.25, 0]);
  });
});
