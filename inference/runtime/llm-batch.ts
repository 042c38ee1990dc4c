/**
 * Shared autoregressive decoding of several token streams in ONE LLM batch with a KV cache.
 *
 * Rows are left-padded to the longest prompt: attention_mask 0 on padding, position_ids count real
 * tokens from 0 (padding gets position 0). Every step feeds one token per live row; a stream's rows
 * (cond + uncond for guidance) always receive the same token. When a stream finishes or fails, its
 * rows are dropped from the KV cache before the next step, so the others continue undisturbed.
 */
import { BatchQueue } from './batch-queue.js';

/** One LLM batch session, pinned to one worker that keeps the KV cache. */
export interface LlmSession {
  /** [B, S] inputs, empty past -> last-position logits [B, V]. */
  prefill(
    ids: BigInt64Array,
    mask: BigInt64Array,
    positions: BigInt64Array,
    batch: number,
    seqLen: number,
  ): Promise<Float32Array>;
  /** [B, 1] ids, [B, P + 1] mask, [B, 1] positions -> logits [B, V]. */
  step(
    ids: BigInt64Array,
    mask: BigInt64Array,
    positions: BigInt64Array,
    batch: number,
  ): Promise<Float32Array>;
  keepRows(rows: number[]): Promise<void>;
  release(): void;
}

/** A sequence being decoded (per-request state lives here, not on the model). */
export interface DecodeStream {
  /** Prompt rows: [cond] or [cond, uncond]. */
  readonly rows: number[][];
  /** Next token for all its rows given their logits ([V] each), or null when finished. Throw to abort. */
  advance(logits: Float32Array[]): number | null;
  /** Why the stream should not start (e.g. its request was cancelled while waiting), if so. */
  stopReason?(): Error | undefined;
}

interface LiveStream {
  stream: DecodeStream;
  rowIndex: number[]; // indices into the current batch
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface RowState {
  pad: number; // left padding columns
  next: number; // position id of the next token
}

/** Left-pads prompt rows: ids/mask/positions [B, S] int64. */
export function padPrompts(rows: number[][], padId: number) {
  const B = rows.length;
  const S = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(B * S).fill(BigInt(padId)); // [B, S]
  const mask = new BigInt64Array(B * S); // [B, S]
  const positions = new BigInt64Array(B * S); // [B, S]
  rows.forEach((row, b) => {
    const pad = S - row.length;
    row.forEach((id, j) => {
      ids[b * S + pad + j] = BigInt(id);
      mask[b * S + pad + j] = 1n;
      positions[b * S + pad + j] = BigInt(j);
    });
  });
  return { ids, mask, positions, batch: B, seqLen: S, pads: rows.map((r) => S - r.length) };
}

/** Attention mask [B, width] for rows with the given left padding. */
export function stepMask(rows: RowState[], width: number): BigInt64Array {
  const mask = new BigInt64Array(rows.length * width); // [B, P + 1]
  rows.forEach((r, b) => {
    mask.fill(1n, b * width + r.pad, (b + 1) * width);
  });
  return mask;
}

/** A submitted stream and how to settle its submission. */
export interface DecodeEntry {
  stream: DecodeStream;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Runs streams to completion in one shared batch. Each entry settles independently. */
export async function runDecodeBatch(
  entries: DecodeEntry[],
  session: LlmSession,
  padId: number,
  onStep?: (batchRows: number) => void,
): Promise<void> {
  let live: LiveStream[] = [];
  const prompts: number[][] = [];
  for (const e of entries) {
    const rowIndex = e.stream.rows.map((row) => prompts.push(row) - 1);
    live.push({ ...e, rowIndex });
  }
  const padded = padPrompts(prompts, padId);
  let rows: RowState[] = prompts.map((p, b) => ({ pad: padded.pads[b]!, next: p.length }));
  let width = padded.seqLen;
  try {
    onStep?.(padded.batch);
    let logits = await session.prefill(
      padded.ids,
      padded.mask,
      padded.positions,
      padded.batch,
      padded.seqLen,
    );
    for (;;) {
      const V = logits.length / rows.length;
      const tokens = new Map<LiveStream, number>();
      const survivors: LiveStream[] = [];
      for (const s of live) {
        let next: number | null;
        try {
          next = s.stream.advance(s.rowIndex.map((r) => logits.subarray(r * V, (r + 1) * V)));
        } catch (err) {
          s.reject(err);
          continue;
        }
        if (next === null) s.resolve();
        else {
          tokens.set(s, next);
          survivors.push(s);
        }
      }
      if (survivors.length === 0) return;
      if (survivors.length !== live.length) {
        const keep = survivors.flatMap((s) => s.rowIndex);
        await session.keepRows(keep);
        rows = keep.map((r) => rows[r]!);
        let at = 0;
        for (const s of survivors) s.rowIndex = s.rowIndex.map(() => at++);
      }
      live = survivors;
      const B = rows.length;
      const ids = new BigInt64Array(B); // [B, 1]
      const positions = new BigInt64Array(B); // [B, 1]
      for (const s of live) {
        for (const r of s.rowIndex) {
          ids[r] = BigInt(tokens.get(s)!);
          positions[r] = BigInt(rows[r]!.next++);
        }
      }
      width += 1;
      onStep?.(B);
      logits = await session.step(ids, stepMask(rows, width), positions, B);
    }
  } catch (err) {
    for (const s of live) s.reject(err);
  } finally {
    session.release();
  }
}

/**
 * Groups streams submitted while no batch slot is free (or within the same event-loop turn) into
 * shared batches of at most `maxRows` rows. A stream submitted while a batch runs waits for the next
 * batch (no joining mid-way).
 */
export class LlmBatcher {
  private readonly queue: BatchQueue<DecodeEntry>;

  constructor(
    openSession: () => LlmSession,
    padId: number,
    maxRows: number,
    maxConcurrent: number,
    onStep?: (batchRows: number) => void,
  ) {
    this.queue = new BatchQueue<DecodeEntry>({
      rows: (entry) => entry.stream.rows.length,
      maxRows,
      maxConcurrent,
      run: (batch) => runDecodeBatch(batch, openSession(), padId, onStep),
      discard: (entry) => {
        const reason = entry.stream.stopReason?.();
        if (!reason) return false;
        entry.reject(reason);
        return true;
      },
    });
  }

  submit(stream: DecodeStream): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ stream, resolve, reject });
    });
  }
}
