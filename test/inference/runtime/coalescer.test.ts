import { describe, expect, it } from 'vitest';
import { mergeDenoiseInputs, splitRows } from '../../../inference/runtime/batched-model.js';
import { Coalescer } from '../../../inference/runtime/coalescer.js';

describe('Coalescer', () => {
  it('runs calls of the same turn as one batch and later calls in the next', async () => {
    const batches: number[][] = [];
    const c = new Coalescer<{ rows: number; v: number }, number>(
      async (inputs) => {
        batches.push(inputs.map((i) => i.v));
        await new Promise((r) => setTimeout(r, 5));
        return inputs.map((i) => i.v * 10);
      },
      10,
      1,
    );
    const first = [c.call({ rows: 1, v: 1 }), c.call({ rows: 2, v: 2 })];
    await new Promise((r) => setImmediate(r));
    const later = [c.call({ rows: 1, v: 3 }), c.call({ rows: 1, v: 4 })];
    expect(await Promise.all([...first, ...later])).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('respects maxRows and propagates errors to the batch', async () => {
    const batches: number[][] = [];
    const c = new Coalescer<{ rows: number; v: number }, number>(
      async (inputs) => {
        batches.push(inputs.map((i) => i.v));
        if (inputs.some((i) => i.v === 3)) throw new Error('boom');
        return inputs.map((i) => i.v);
      },
      2,
      1,
    );
    const results = await Promise.allSettled([1, 2, 3].map((v) => c.call({ rows: 1, v })));
    expect(batches).toEqual([[1, 2], [3]]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  });
});

describe('denoiser batch merge', () => {
  it('concatenates along the batch axis and splits back', () => {
    const m = mergeDenoiseInputs([
      {
        xT: Float32Array.of(1, 2),
        t: Float32Array.of(1),
        codes: BigInt64Array.of(1n),
        mask: Float32Array.of(1),
        batch: 1,
      },
      {
        xT: Float32Array.of(3, 4, 5, 6),
        t: Float32Array.of(0.5, 0.25),
        codes: BigInt64Array.of(2n, 3n),
        mask: Float32Array.of(0, 1),
        batch: 2,
      },
    ]);
    expect(m.batch).toBe(3);
    expect(Array.from(m.xT)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(m.t)).toEqual([1, 0.5, 0.25]);
    expect(Array.from(m.codes)).toEqual([1n, 2n, 3n]);
    expect(splitRows(m.xT, [1, 2], 3).map((a) => Array.from(a))).toEqual([
      [1, 2],
      [3, 4, 5, 6],
    ]);
  });
});
