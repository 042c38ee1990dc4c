/**
 * The two KV-cache conventions (inference/runtime/kv-cache.ts) hold the same cache through the same
 * operations: a buffer-mode cache written in place, grown and re-rowed, compacts to what the append-mode
 * cache holds, and its graph mask puts the real slots, masked free slots and the new tokens where the
 * buffer graph expects them.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { BUFFER_SLACK, createKvCache, type KvCache } from '../../../inference/runtime/kv-cache.js';

const H = 2;
const D = 3;
const LAYERS = 2; // tensors: keys of 2 layers, then values

/** [B, H, S, D] tensors whose values name (tensor, row, head, position, dim), positions from `from`. */
function tokens(batch: number, S: number, from: number, half = false): ort.Tensor[] {
  return Array.from({ length: 2 * LAYERS }, (_, t) => {
    const n = batch * H * S * D;
    const data = half ? new Uint16Array(n) : new Float32Array(n);
    for (let b = 0; b < batch; b++)
      for (let h = 0; h < H; h++)
        for (let s = 0; s < S; s++)
          for (let d = 0; d < D; d++)
            data[((b * H + h) * S + s) * D + d] = t * 10000 + b * 1000 + h * 100 + (from + s) * 10 + d;
    return new ort.Tensor(half ? 'float16' : 'float32', data as Float32Array, [batch, H, S, D]);
  });
}

const values = (c: KvCache) =>
  c.compact().map((t) => ({ dims: t.dims, data: Array.from(t.data as Float32Array) }));

describe('KV cache conventions', () => {
  for (const half of [false, true]) {
    it(`buffer and append hold the same cache through steps, growth and row changes (${half ? 'float16' : 'float32'})`, () => {
      const append = createKvCache('append', tokens(3, 5, 0, half));
      const buffer = createKvCache('buffer', tokens(3, 5, 0, half));
      expect(values(buffer)).toEqual(values(append));
      // steps: append mode gets the whole cache back, buffer mode the new token only
      const steps = BUFFER_SLACK + 4; // past the first capacity: the buffer must grow and keep its slots
      for (let s = 0; s < steps; s++) {
        append.update(concatPositions(append.compact(), tokens(3, 1, 5 + s, half)), 1);
        buffer.update(tokens(3, 1, 5 + s, half), 1);
      }
      expect(buffer.length).toBe(5 + steps);
      expect(values(buffer)).toEqual(values(append));
      append.selectRows([2, 0, 0]);
      buffer.selectRows([2, 0, 0]);
      expect(values(buffer)).toEqual(values(append));
      buffer.update(tokens(3, 1, 99, half), 1);
      append.update(concatPositions(append.compact(), tokens(3, 1, 99, half)), 1);
      expect(values(buffer)).toEqual(values(append));
    });
  }

  for (const half of [false, true]) {
    it(`buffer and append hold the same cache through joins and dropped rows (${half ? 'float16' : 'float32'})`, () => {
      const both = (make: (c: 'append' | 'buffer') => KvCache) => [make('append'), make('buffer')] as const;
      const [append, buffer] = both((c) => createKvCache(c, tokens(4, 6, 0, half)));
      const step = (from: number) => {
        append.update(
          concatPositions(append.compact(), tokens(append.past()[0]!.dims[0]!, 1, from, half)),
          1,
        );
        buffer.update(tokens(append.past()[0]!.dims[0]!, 1, from, half), 1);
        expect(buffer.length).toBe(append.length);
        expect(values(buffer)).toEqual(values(append));
      };
      step(6);
      // a shorter join (left-padded to the batch's length), then a longer one (the batch is padded)
      for (const [rows, length] of [
        [2, 3],
        [1, 12],
      ] as const) {
        const [a, b] = both((c) => createKvCache(c, tokens(rows, length, 500, half)));
        append.appendRows(a);
        buffer.appendRows(b);
        expect(values(buffer)).toEqual(values(append));
        step(20 + length);
      }
      expect(append.compact()[0]!.dims).toEqual([7, H, 13, D]);
      // finished rows leave in order (in place in a buffer), with and without leading columns; then a new order
      for (const [rows, drop] of [
        [[0, 2, 3, 6], 0],
        [[1, 2, 3], 4],
        [[2, 0, 0], 1],
      ] as const) {
        append.keepRows([...rows], drop);
        buffer.keepRows([...rows], drop);
        expect(buffer.length).toBe(append.length);
        expect(values(buffer)).toEqual(values(append));
        step(40 + drop);
      }
      // growing past the buffer's free slots after rows left in place keeps every slot
      for (let s = 0; s < BUFFER_SLACK + 2; s++) step(60 + s);
      expect(append.compact()[0]!.dims).toEqual([3, H, 11 + BUFFER_SLACK + 2, D]);
    });
  }

  it('refuses presents of the other convention (a manifest that names the wrong one)', () => {
    const buffer = createKvCache('buffer', tokens(2, 4, 0));
    expect(() => buffer.update(tokens(2, 5, 0), 1)).toThrow(/kv_cache "buffer" means 1/);
    const append = createKvCache('append', tokens(2, 4, 0));
    expect(() => append.update(tokens(2, 1, 4), 1)).toThrow(/kv_cache "append" means 5/);
  });

  it('gives the buffer graph its mask: real slots, masked free slots, then the new tokens', () => {
    const buffer = createKvCache('buffer', tokens(2, 2, 0));
    const capacity = buffer.past()[0]!.dims[2]!;
    expect(capacity).toBe(2 + BUFFER_SLACK);
    // logical mask [B, P + 1]: row 1 is left-padded by one position
    const mask = BigInt64Array.from([1n, 1n, 1n, 0n, 1n, 1n]);
    const graph = buffer.graphMask(mask, 2);
    const width = capacity + 1;
    expect(graph.length).toBe(2 * width);
    const row = (b: number) => Array.from(graph.subarray(b * width, (b + 1) * width), Number);
    expect(row(0)).toEqual([1, 1, ...Array(BUFFER_SLACK).fill(0), 1]);
    expect(row(1)).toEqual([0, 1, ...Array(BUFFER_SLACK).fill(0), 1]);
    // append mode feeds the logical mask unchanged
    expect(createKvCache('append', tokens(2, 2, 0)).graphMask(mask, 2)).toBe(mask);
  });
});

/** [B, H, P, D] + [B, H, S, D] -> [B, H, P + S, D], as an append-mode graph returns it. */
function concatPositions(past: ort.Tensor[], next: ort.Tensor[]): ort.Tensor[] {
  return past.map((p, i) => {
    const [B, , P] = p.dims as number[];
    const S = next[i]!.dims[2]!;
    const a = p.data as Float32Array;
    const b = next[i]!.data as Float32Array;
    const out = new (a.constructor as Float32ArrayConstructor)(B! * H * (P! + S) * D);
    for (let bh = 0; bh < B! * H; bh++) {
      out.set(a.subarray(bh * P! * D, (bh + 1) * P! * D), bh * (P! + S) * D);
      out.set(b.subarray(bh * S * D, (bh + 1) * S * D), (bh * (P! + S) + P!) * D);
    }
    return new ort.Tensor(p.type as 'float32', out, [B!, H, P! + S, D]);
  });
}
