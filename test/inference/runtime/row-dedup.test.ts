import { describe, expect, it } from 'vitest';
import { distinctRows, firstOfEach, takeRows } from '../../../inference/runtime/row-dedup.js';

describe('distinctRows', () => {
  it('finds each distinct row once, in order of first appearance, with every row mapped to it', () => {
    // [4, 2] ids and masks: rows 0 and 2 equal everywhere; row 3 has row 1's ids but another mask
    const ids = BigInt64Array.of(1n, 2n, 3n, 4n, 1n, 2n, 3n, 4n);
    const mask = BigInt64Array.of(1n, 1n, 1n, 1n, 1n, 1n, 0n, 1n);
    expect(distinctRows([ids, mask], 4)).toEqual({ keep: [0, 1, 3], index: [0, 1, 0, 2] });
  });

  it('keeps every row of a batch without repeats', () => {
    const ids = BigInt64Array.of(5n, 6n, 7n);
    expect(distinctRows([ids], 3)).toEqual({ keep: [0, 1, 2], index: [0, 1, 2] });
  });
});

describe('takeRows', () => {
  it('gathers rows in the given order, repeats allowed, for int64 and float arrays', () => {
    const ids = BigInt64Array.of(1n, 2n, 3n, 4n, 5n, 6n); // [3, 2]
    expect([...takeRows(ids, [2, 0], 3)]).toEqual([5n, 6n, 1n, 2n]);
    const logits = Float32Array.of(0.5, 1.5, 2.5, 3.5); // [2, 2]
    const out = takeRows(logits, [1, 0, 1], 2);
    expect(out).toBeInstanceOf(Float32Array);
    expect([...out]).toEqual([2.5, 3.5, 0.5, 1.5, 2.5, 3.5]);
  });
});

describe('firstOfEach', () => {
  it('keeps the first item of each id list, in order ([1, 23] and [12, 3] differ)', () => {
    const items = [{ ids: [1, 23] }, { ids: [12, 3] }, { ids: [1, 23] }, { ids: [] }, { ids: [] }];
    expect(firstOfEach(items, (i) => i.ids)).toEqual([items[0], items[1], items[3]]);
  });
});
