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
  /**
   * Optional: prefills new rows ([B2, S2] inputs, empty past) and appends them to this session's cache, both
   * left-padded to the longer length -> the new rows' last logits [B2, V]. Sessions with it accept joiners.
   */
  join?: LlmSession['prefill'];
  /** Keeps these rows (ascending) and drops the first `dropColumns` cache positions (padding of all of them). */
  keepRows(rows: number[], dropColumns?: number): Promise<void>;
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

/**
 * Streams that arrive while a batch runs and every batch slot is busy: they join a running batch at its
 * next step instead of waiting for a batch to finish (continuous batching).
 */
export class JoinInbox {
  readonly waiting: DecodeEntry[] = [];
  open = true; // false once the batch has ended: nothing may join any more
  liveRows = 0;

  get rows(): number {
    return this.liveRows + this.waiting.reduce((n, e) => n + e.stream.rows.length, 0);
  }
}

/**
 * Runs streams to completion in one shared batch. Each entry settles independently. With an inbox (and a
 * session that can join), streams put into it join at the start of the next step.
 */
export async function runDecodeBatch(
  entries: DecodeEntry[],
  session: LlmSession,
  padId: number,
  onStep?: (batchRows: number, kind?: 'join') => void,
  inbox?: JoinInbox,
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
      if (inbox && session.join && inbox.waiting.length > 0) {
        // joiners: prefilled on their own, appended to the cache; every row is left-padded to the new width
        const joiners = inbox.waiting.splice(0).filter((e) => {
          const reason = e.stream.stopReason?.();
          if (reason) e.reject(reason);
          return !reason;
        });
        if (joiners.length > 0) {
          const added = joiners.flatMap((e) => e.stream.rows);
          let at = rows.length;
          for (const e of joiners) live.push({ ...e, rowIndex: e.stream.rows.map(() => at++) });
          const p = padPrompts(added, padId);
          onStep?.(p.batch, 'join');
          const extra = await session.join(p.ids, p.mask, p.positions, p.batch, p.seqLen);
          const total = Math.max(width, p.seqLen);
          rows = [
            ...rows.map((r) => ({ pad: r.pad + total - width, next: r.next })),
            ...added.map((prompt, b) => ({ pad: p.pads[b]! + total - p.seqLen, next: prompt.length })),
          ];
          width = total;
          const joined = new Float32Array(logits.length + extra.length);
          joined.set(logits);
          joined.set(extra, logits.length);
          logits = joined;
        }
      }
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
        const kept = keep.map((r) => rows[r]!);
        // padding every kept row shares is dropped: a batch that streams keep joining stays narrow
        const drop = Math.min(...kept.map((r) => r.pad));
        await session.keepRows(keep, drop);
        rows = kept.map((r) => ({ pad: r.pad - drop, next: r.next }));
        width -= drop;
        let at = 0;
        for (const s of survivors) s.rowIndex = s.rowIndex.map(() => at++);
      }
      live = survivors;
      if (inbox) inbox.liveRows = rows.length;
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
    if (inbox) inbox.open = false; // on every exit: nothing may join any more, waiting joiners are requeued
    session.release();
  }
}

/**
 * Groups streams submitted within the same event-loop turn, or while no batch slot is free, into shared
 * batches of at most `maxRows` rows. While every slot is busy, a new stream joins the running batch with
 * the fewest rows that has room (at its next step) instead of waiting for a batch to finish; batches whose
 * session cannot join keep the older rule (wait for the next batch).
 */
export class LlmBatcher {
  private readonly queue: BatchQueue<DecodeEntry>;
  private readonly inboxes = new Set<JoinInbox>();

  constructor(
    private readonly openSession: () => LlmSession,
    private readonly padId: number,
    private readonly maxRows: number,
    maxConcurrent: number,
    private readonly onStep?: (batchRows: number, kind?: 'join') => void,
  ) {
    this.queue = new BatchQueue<DecodeEntry>({
      rows: (entry) => entry.stream.rows.length,
      maxRows,
      maxConcurrent,
      run: (batch) => this.runBatch(batch),
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
      const entry = { stream, resolve, reject };
      const inbox = this.queue.saturated ? this.joinTarget(stream.rows.length) : undefined;
      if (inbox) inbox.waiting.push(entry);
      else this.queue.push(entry);
    });
  }

  private async runBatch(batch: DecodeEntry[]): Promise<void> {
    const session = this.openSession();
    const inbox = session.join ? new JoinInbox() : undefined;
    if (inbox) {
      inbox.liveRows = batch.reduce((n, e) => n + e.stream.rows.length, 0);
      this.inboxes.add(inbox);
    }
    try {
      await runDecodeBatch(batch, session, this.padId, this.onStep, inbox);
    } finally {
      if (inbox) {
        this.inboxes.delete(inbox); // runDecodeBatch closed it
        // streams that came too late for this batch start the next one (this slot frees right after)
        for (const e of inbox.waiting.splice(0)) this.queue.push(e);
      }
    }
  }

  private joinTarget(rows: number): JoinInbox | undefined {
    let best: JoinInbox | undefined;
    for (const inbox of this.inboxes) {
      if (!inbox.open || inbox.rows + rows > this.maxRows) continue;
      if (!best || inbox.rows < best.rows) best = inbox;
    }
    return best;
  }
}
