/**
 * The KV cache of one LLM batch session in a model worker, for both conventions of manifest
 * graphs.llm.kv_cache (docs/model-package.md):
 * - append (Hugging Face): the graph returns the whole cache [B, H, P + S, D] every step; we keep it.
 * - buffer: the graph reads a buffer [B, H, C, D] whose first P slots are real (the attention mask hides
 *   the rest) and returns only the S new tokens' keys/values, which we write into the buffer in place.
 *   onnxruntime-node copies every output into a new JavaScript buffer, so with append a 16-row step of the
 *   bundled model spent as long copying the cache out as running the model (3.6 against 2.5 ms).
 * Tensors are [B, H, P, D] per layer, keys then values, in the graph's float dtype (bits never converted).
 */
import * as ort from 'onnxruntime-node';
import { appendRows, dropColumns, selectRows } from './ort-backend.js';
import { takeRows } from './row-dedup.js';

type FloatData = Float32Array | Uint16Array;
type FloatArrayCtor = Float32ArrayConstructor | Uint16ArrayConstructor;

export type KvConvention = 'append' | 'buffer';

/** Free slots a buffer gets beyond what it holds, so that steps write in place and grow it rarely. */
export const BUFFER_SLACK = 32;

export interface KvCache {
  /** Positions cached per row (P). */
  readonly length: number;
  /** The graph's past inputs, one per layer tensor. */
  past(): ort.Tensor[];
  /** The graph's attention mask for a step of S tokens, from the logical mask [B, P + S]. */
  graphMask(mask: BigInt64Array, batch: number): BigInt64Array;
  /** Takes the graph's present outputs after a step of `newTokens` tokens over this cache. */
  update(presents: ort.Tensor[], newTokens: number): void;
  /** The cache as [B, H, P, D] tensors (copies for buffer). */
  compact(): ort.Tensor[];
  /** Keeps rows `index` (repeats allowed) of every tensor. */
  selectRows(index: number[]): void;
  /** Keeps rows `index` (repeats allowed) without the first `drop` cached positions of every row. */
  keepRows(index: number[], drop: number): void;
  /**
   * Adds the rows of `other` after this cache's rows. The shorter side is left-padded (zeros, which the
   * attention mask hides) so that every row's positions end where the longer one's end.
   */
  appendRows(other: KvCache): void;
}

/** A cache from a prefill's presents (or from compact tensors). */
export function createKvCache(convention: KvConvention, tensors: ort.Tensor[]): KvCache {
  return convention === 'buffer' ? BufferKv.fromCompact(tensors) : new AppendKv(tensors);
}

class AppendKv implements KvCache {
  constructor(private tensors: ort.Tensor[]) {}
  get length(): number {
    return this.tensors[0]!.dims[2]!;
  }
  past(): ort.Tensor[] {
    return this.tensors;
  }
  graphMask(mask: BigInt64Array): BigInt64Array {
    return mask;
  }
  update(presents: ort.Tensor[], newTokens: number): void {
    expectPositions(presents, this.length + newTokens, 'append');
    this.tensors = presents;
  }
  compact(): ort.Tensor[] {
    return this.tensors;
  }
  selectRows(index: number[]): void {
    this.tensors = this.tensors.map((t) => selectRows(t, index));
  }
  keepRows(index: number[], drop: number): void {
    this.tensors = this.tensors.map((t) => dropColumns(selectRows(t, index), drop));
  }
  appendRows(other: KvCache): void {
    const added = other.compact();
    this.tensors = this.tensors.map((t, i) => appendRows(t, added[i]!));
  }
}

class BufferKv implements KvCache {
  private constructor(
    private buffers: FloatData[],
    private readonly type: ort.Tensor['type'],
    private batch: number,
    private readonly heads: number,
    private readonly headDim: number,
    private capacity: number,
    public length: number,
  ) {}

  static fromCompact(tensors: ort.Tensor[]): BufferKv {
    const [B, H, P, D] = tensors[0]!.dims as [number, number, number, number];
    const kv = new BufferKv(
      tensors.map((t) => newLike(t.data as FloatData, 0)),
      tensors[0]!.type,
      B,
      H,
      D,
      0,
      0,
    );
    kv.reserve(P);
    kv.write(tensors, P);
    return kv;
  }

  past(): ort.Tensor[] {
    const dims = [this.batch, this.heads, this.capacity, this.headDim];
    return this.buffers.map((b) => new ort.Tensor(this.type as 'float32', b as Float32Array, dims));
  }

  /** [B, P + S] -> [B, C + S]: the P real slots, C - P masked free slots, then the S new tokens. */
  graphMask(mask: BigInt64Array, batch: number): BigInt64Array {
    const width = mask.length / batch;
    const S = width - this.length;
    const out = new BigInt64Array(batch * (this.capacity + S)); // zeros: free slots stay masked
    for (let b = 0; b < batch; b++) {
      const row = mask.subarray(b * width, (b + 1) * width);
      const at = b * (this.capacity + S);
      out.set(row.subarray(0, this.length), at);
      out.set(row.subarray(this.length), at + this.capacity);
    }
    return out;
  }

  update(presents: ort.Tensor[], newTokens: number): void {
    const S = newTokens;
    expectPositions(presents, S, 'buffer');
    this.reserve(this.length + S);
    this.write(presents, S);
  }

  compact(): ort.Tensor[] {
    const { batch: B, heads: H, headDim: D, length: P } = this;
    return this.buffers.map(
      (buf) => new ort.Tensor(this.type as 'float32', this.cachedSlots(buf, P) as Float32Array, [B, H, P, D]),
    );
  }

  selectRows(index: number[]): void {
    this.buffers = this.buffers.map((b) => takeRows(b, index, this.batch));
    this.batch = index.length;
  }

  /**
   * In place when the kept rows keep their order (a batch dropping finished rows): each kept (row, head)
   * moves down to its new place, less its first `drop` positions, in one pass with no new buffer. Going
   * through compact tensors instead copied the whole cache four times, which was most of what a batch of
   * eight concurrent Generates spent beyond one alone (BENCHMARKS.md, session 26).
   */
  keepRows(index: number[], drop: number): void {
    let rows = index;
    if (!index.every((r, j) => j === 0 || r > index[j - 1]!)) {
      this.selectRows(index); // repeats or a new order: copy the rows first, then drop in place
      rows = index.map((_, j) => j);
    }
    const { heads: H, headDim: D, capacity: C, length: P } = this;
    const kept = (P - drop) * D;
    for (const buf of this.buffers) {
      rows.forEach((row, j) => {
        if (row === j && drop === 0) return; // already where it belongs
        for (let h = 0; h < H; h++) {
          const from = ((row * H + h) * C + drop) * D;
          buf.copyWithin((j * H + h) * C * D, from, from + kept); // the target never passes the source
        }
      });
    }
    this.buffers = this.buffers.map((b) => b.subarray(0, rows.length * H * C * D) as FloatData);
    this.batch = rows.length;
    this.length = P - drop;
  }

  /** One copy of each side's cached slots into a buffer for both (the rows change, so the buffer must). */
  appendRows(other: KvCache): void {
    const added = other.compact();
    const { batch: B1, heads: H, headDim: D, capacity: C, length: P1 } = this;
    const [B2, , P2] = added[0]!.dims as [number, number, number, number];
    const P = Math.max(P1, P2);
    const slots = P + BUFFER_SLACK;
    this.buffers = this.buffers.map((buf, i) => {
      const out = newLike(buf, (B1 + B2) * H * slots * D);
      for (let bh = 0; bh < B1 * H; bh++) {
        out.set(buf.subarray(bh * C * D, (bh * C + P1) * D), (bh * slots + P - P1) * D);
      }
      const src = added[i]!.data as FloatData;
      for (let bh = 0; bh < B2 * H; bh++) {
        out.set(src.subarray(bh * P2 * D, (bh + 1) * P2 * D), ((B1 * H + bh) * slots + P - P2) * D);
      }
      return out;
    });
    this.batch = B1 + B2;
    this.capacity = slots;
    this.length = P;
  }

  /** Room for `needed` positions per row (a larger buffer with the cached slots copied, if it must grow). */
  private reserve(needed: number): void {
    if (needed <= this.capacity) return;
    const grown = needed + BUFFER_SLACK;
    this.buffers = this.buffers.map((buf) => this.cachedSlots(buf, grown));
    this.capacity = grown;
  }

  /** The cached slots of `buf`, copied into a new buffer of `slots` slots per (row, head). */
  private cachedSlots(buf: FloatData, slots: number): FloatData {
    const { batch: B, heads: H, headDim: D, capacity: C, length: P } = this;
    const out = newLike(buf, B * H * slots * D);
    for (let bh = 0; bh < B * H; bh++) out.set(buf.subarray(bh * C * D, (bh * C + P) * D), bh * slots * D);
    return out;
  }

  /** Writes [B, H, S, D] tensors into slots length .. length + S - 1 and advances length. */
  private write(tensors: ort.Tensor[], S: number): void {
    const { batch: B, heads: H, headDim: D, capacity: C, length: P } = this;
    tensors.forEach((t, i) => {
      const src = t.data as FloatData;
      const buf = this.buffers[i]!;
      for (let bh = 0; bh < B * H; bh++)
        buf.set(src.subarray(bh * S * D, (bh + 1) * S * D), (bh * C + P) * D);
    });
    this.length = P + S;
  }
}

/** A graph that does not follow the manifest's convention would corrupt the cache silently: refuse it. */
function expectPositions(presents: ort.Tensor[], positions: number, convention: KvConvention): void {
  const got = presents[0]?.dims[2];
  if (got !== positions) {
    throw new Error(
      `llm graph returned present keys/values for ${got} positions where graphs.llm.kv_cache "${convention}" ` +
        `means ${positions}: does manifest.json name the convention the graph was exported with?`,
    );
  }
}

function newLike(data: FloatData, length: number): FloatData {
  return new (data.constructor as FloatArrayCtor)(length);
}
