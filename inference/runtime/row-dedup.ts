/**
 * Identical rows of a batch, computed once. A burst of Generate requests prefills the same unconditional
 * prompt row once per request (and the same prompt when users repeat one): the LLM prefill runs on the
 * distinct rows only and its outputs are copied back out to every row. Rows of a batched run do not depend
 * on each other, so each row's result is the one it would get in the full batch.
 */

export interface DistinctRows {
  keep: number[]; // first row of each distinct row, ascending
  index: number[]; // [B]: position in `keep` of each row's distinct row
}

/** The first of each group of items with equal id lists (reranking candidates), in order. */
export function firstOfEach<T>(items: T[], ids: (item: T) => number[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = ids(item).join(',');
    return !seen.has(key) && seen.add(key);
  });
}

/** Rows b of [B, ...] arrays (all of them equal over every array) found once. */
export function distinctRows(arrays: BigInt64Array[], batch: number): DistinctRows {
  const keep: number[] = [];
  const index: number[] = [];
  const seen = new Map<string, number>();
  for (let b = 0; b < batch; b++) {
    const key = arrays.map((a) => rowOf(a, b, batch).join(',')).join('|');
    let at = seen.get(key);
    if (at === undefined) {
      at = keep.push(b) - 1;
      seen.set(key, at);
    }
    index.push(at);
  }
  return { keep, index };
}

/** Rows `rows` of a [B, ...] array, in that order (repeats allowed). */
export function takeRows<T extends BigInt64Array | Float32Array | Uint16Array>(
  data: T,
  rows: number[],
  batch: number,
): T {
  const size = data.length / batch;
  const Ctor = data.constructor as new (n: number) => T;
  const out = new Ctor(rows.length * size);
  rows.forEach((r, i) => {
    out.set(rowOf(data, r, batch) as never, i * size);
  });
  return out;
}

function rowOf<T extends BigInt64Array | Float32Array | Uint16Array>(data: T, b: number, batch: number): T {
  const size = data.length / batch;
  return data.subarray(b * size, (b + 1) * size) as T;
}
