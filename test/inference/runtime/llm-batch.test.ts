import { describe, expect, it } from 'vitest';
import {
  type DecodeStream,
  JoinInbox,
  LlmBatcher,
  type LlmSession,
  padPrompts,
  runDecodeBatch,
} from '../../../inference/runtime/llm-batch.js';

const V = 4;

/** Records every call; logits of row b put all mass on token (last input id of that row + 1) % V. */
function recordingSession() {
  const calls: {
    kind: string;
    ids: number[];
    mask: number[];
    positions: number[];
    batch: number;
    rows?: number[];
    drop?: number;
  }[] = [];
  const logitsFor = (lastIds: number[]) => {
    const out = new Float32Array(lastIds.length * V);
    lastIds.forEach((id, b) => {
      out[b * V + ((id + 1) % V)] = 10;
    });
    return out;
  };
  const session: LlmSession = {
    async prefill(ids, mask, positions, batch, seqLen) {
      calls.push({
        kind: 'prefill',
        ids: Array.from(ids, Number),
        mask: Array.from(mask, Number),
        positions: Array.from(positions, Number),
        batch,
      });
      return logitsFor(Array.from({ length: batch }, (_, b) => Number(ids[b * seqLen + seqLen - 1])));
    },
    async step(ids, mask, positions, batch) {
      calls.push({
        kind: 'step',
        ids: Array.from(ids, Number),
        mask: Array.from(mask, Number),
        positions: Array.from(positions, Number),
        batch,
      });
      return logitsFor(Array.from(ids, Number));
    },
    async keepRows(rows, drop) {
      calls.push({ kind: 'keep', ids: [], mask: [], positions: [], batch: rows.length, rows, drop });
    },
    release() {
      calls.push({ kind: 'release', ids: [], mask: [], positions: [], batch: 0 });
    },
  };
  return { session, calls };
}

/** Greedy stream taking `n` tokens; records the logits rows it saw. */
function greedyStream(
  rows: number[][],
  n: number,
  seen: number[][] = [],
): DecodeStream & { tokens: number[] } {
  const tokens: number[] = [];
  return {
    rows,
    tokens,
    advance(logits) {
      const row = Array.from(logits[0]!);
      seen.push(row);
      const t = row.indexOf(Math.max(...row));
      tokens.push(t);
      return tokens.length >= n ? null : t;
    },
  };
}

const settle = () => ({
  resolve: () => {},
  reject: (e: unknown) => {
    throw e;
  },
});

describe('left padding', () => {
  it('pads on the left with mask 0 and positions from 0 at the first real token', () => {
    const p = padPrompts([[5, 6, 7], [8]], 0);
    expect(Array.from(p.ids, Number)).toEqual([5, 6, 7, 0, 0, 8]);
    expect(Array.from(p.mask, Number)).toEqual([1, 1, 1, 0, 0, 1]);
    expect(Array.from(p.positions, Number)).toEqual([0, 1, 2, 0, 0, 0]);
    expect(p.pads).toEqual([0, 2]);
  });
});

describe('runDecodeBatch', () => {
  it('steps all rows together with growing masks and per-row positions', async () => {
    const { session, calls } = recordingSession();
    const a = greedyStream([[1, 2, 3]], 3);
    const b = greedyStream([[1]], 3);
    await runDecodeBatch(
      [
        { stream: a, ...settle() },
        { stream: b, ...settle() },
      ],
      session,
      0,
    );
    expect(a.tokens).toEqual([0, 1, 2]); // 3+1 = 0 mod 4, then +1 each step
    expect(b.tokens).toEqual([2, 3, 0]);
    expect(calls.map((c) => c.kind)).toEqual(['prefill', 'step', 'step', 'release']);
    expect(calls[1]).toMatchObject({ ids: [0, 2], mask: [1, 1, 1, 1, 0, 0, 1, 1], positions: [3, 1] });
    expect(calls[2]).toMatchObject({ ids: [1, 3], mask: [1, 1, 1, 1, 1, 0, 0, 1, 1, 1], positions: [4, 2] });
  });

  it('drops finished rows from the cache and keeps guidance pairs together', async () => {
    const { session, calls } = recordingSession();
    const short = greedyStream([[1], [2]], 1); // cond + uncond, one token
    const long = greedyStream([[3, 3]], 3);
    await runDecodeBatch(
      [
        { stream: short, ...settle() },
        { stream: long, ...settle() },
      ],
      session,
      0,
    );
    expect(calls.map((c) => c.kind)).toEqual(['prefill', 'keep', 'step', 'step', 'release']);
    expect(calls[1]!.rows).toEqual([2]);
    expect(calls[2]).toMatchObject({ batch: 1, ids: [0], mask: [1, 1, 1], positions: [2] });
    expect(long.tokens).toEqual([0, 1, 2]);
  });

  it('rejects only the stream that throws; the others finish', async () => {
    const { session } = recordingSession();
    const good = greedyStream([[1]], 2);
    let rejected: unknown;
    const bad: DecodeStream = {
      rows: [[2]],
      advance() {
        throw new Error('cancelled');
      },
    };
    await runDecodeBatch(
      [
        { stream: good, ...settle() },
        {
          stream: bad,
          resolve: () => {},
          reject: (e) => {
            rejected = e;
          },
        },
      ],
      session,
      0,
    );
    expect((rejected as Error).message).toBe('cancelled');
    expect(good.tokens).toEqual([2, 3]);
  });

  it('rejects every live stream when the session fails', async () => {
    const { session } = recordingSession();
    session.step = async () => {
      throw new Error('worker died');
    };
    const errors: string[] = [];
    const reject = (e: unknown) => errors.push((e as Error).message);
    await runDecodeBatch([{ stream: greedyStream([[1]], 3), resolve: () => {}, reject }], session, 0);
    expect(errors).toEqual(['worker died']);
  });
});

describe('LlmBatcher', () => {
  it('batches streams submitted together and queues later ones for the next batch', async () => {
    const sessions: ReturnType<typeof recordingSession>[] = [];
    const batcher = new LlmBatcher(
      () => {
        const s = recordingSession();
        sessions.push(s);
        return s.session;
      },
      0,
      8,
      1,
    );
    const first = [batcher.submit(greedyStream([[1]], 2)), batcher.submit(greedyStream([[2], [2]], 2))];
    await new Promise((r) => setImmediate(r));
    const late = batcher.submit(greedyStream([[3]], 2)); // first batch is running: waits
    await Promise.all([...first, late]);
    expect(sessions.map((s) => s.calls[0]!.batch)).toEqual([3, 1]);
  });

  it('splits batches at maxRows', async () => {
    const batches: number[] = [];
    const batcher = new LlmBatcher(
      () => {
        const s = recordingSession();
        const prefill = s.session.prefill;
        s.session.prefill = (...args) => {
          batches.push(args[3]);
          return prefill(...args);
        };
        return s.session;
      },
      0,
      2,
      1,
    );
    await Promise.all([1, 2, 3].map((i) => batcher.submit(greedyStream([[i], [i]], 1))));
    expect(batches).toEqual([2, 2, 2]);
  });
});

describe('LlmBatcher with stopped streams', () => {
  it('rejects streams stopped while waiting instead of prefilling them', async () => {
    const sessions: ReturnType<typeof recordingSession>[] = [];
    const batcher = new LlmBatcher(
      () => {
        const s = recordingSession();
        sessions.push(s);
        return s.session;
      },
      0,
      8,
      1,
    );
    const running = batcher.submit(greedyStream([[1]], 3));
    await new Promise((r) => setImmediate(r));
    let stopped: Error | undefined;
    const waiting = { ...greedyStream([[2]], 3), stopReason: () => stopped };
    const result = batcher.submit(waiting).then(
      () => 'ok',
      (e: Error) => e.message,
    );
    stopped = new Error('cancelled');
    await running;
    expect(await result).toBe('cancelled');
    expect(sessions).toHaveLength(1);
  });
});

describe('cache width', () => {
  it('drops the left padding every surviving row shares when rows finish', async () => {
    const { session, calls } = recordingSession();
    const long = greedyStream([[1, 2, 3]], 1); // done after its first token
    const short = greedyStream([[1]], 3); // padded by 2 in the prefill
    await runDecodeBatch(
      [
        { stream: long, ...settle() },
        { stream: short, ...settle() },
      ],
      session,
      0,
    );
    expect(calls[1]).toMatchObject({ kind: 'keep', rows: [1], drop: 2 });
    expect(calls[2]).toMatchObject({ kind: 'step', batch: 1, mask: [1, 1], positions: [1] });
    expect(calls[3]).toMatchObject({ kind: 'step', batch: 1, mask: [1, 1, 1], positions: [2] });
  });
});

describe('joining a running batch', () => {
  it('prefills joiners alone and left-pads every row to the wider cache', async () => {
    const { session, calls } = recordingSession();
    const inbox = new JoinInbox();
    const late = greedyStream([[1, 1, 1, 1, 1]], 2);
    let joined = false;
    const step = session.step.bind(session);
    session.step = async (...args) => {
      if (!joined) {
        joined = true; // arrives while the first step runs
        inbox.waiting.push({ stream: late, ...settle() });
      }
      return step(...args);
    };
    session.join = async (ids, mask, positions, batch, seqLen) => {
      calls.push({
        kind: 'join',
        ids: Array.from(ids, Number),
        mask: Array.from(mask, Number),
        positions: Array.from(positions, Number),
        batch,
      });
      return session.prefill(ids, mask, positions, batch, seqLen);
    };
    const early = greedyStream([[5, 6, 7]], 4);
    await runDecodeBatch([{ stream: early, ...settle() }], session, 0, undefined, inbox);
    expect(calls.map((c) => c.kind)).toEqual([
      'prefill',
      'step',
      'join',
      'prefill',
      'step',
      'keep',
      'step',
      'release',
    ]);
    expect(calls[2]).toMatchObject({ ids: [1, 1, 1, 1, 1], positions: [0, 1, 2, 3, 4] });
    // early: 3 prompt + 1 token = 4 columns, now 5 wide (one pad column); late: 5 prompt columns
    expect(calls[4]).toMatchObject({
      batch: 2,
      mask: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      positions: [4, 5],
    });
    expect(early.tokens).toEqual([0, 1, 2, 3]);
    expect(late.tokens).toEqual([2, 3]);
    expect(inbox.open).toBe(false);
  });

  it('sends a stream to a running batch while every slot is busy, and never past maxRows', async () => {
    const { session, calls } = recordingSession();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const step = session.step.bind(session);
    session.step = async (...args) => {
      await gate;
      return step(...args);
    };
    session.join = (ids, mask, positions, batch, seqLen) => {
      calls.push({ kind: 'join', ids: [], mask: [], positions: [], batch });
      return session.prefill(ids, mask, positions, batch, seqLen);
    };
    const batcher = new LlmBatcher(() => session, 0, 3, 1);
    const first = batcher.submit(greedyStream([[1], [1]], 3)); // 2 rows, one slot
    await new Promise((r) => setTimeout(r, 5)); // the first batch is stepping
    const second = batcher.submit(greedyStream([[2]], 2)); // joins: 3 rows
    const third = batcher.submit(greedyStream([[3]], 2)); // no room: waits for the next batch
    release();
    await Promise.all([first, second, third]);
    const joins = calls.filter((c) => c.kind === 'join');
    expect(joins.map((c) => c.batch)).toEqual([1]);
    expect(calls.filter((c) => c.kind === 'prefill' && c.batch === 1)).toHaveLength(2); // join + next batch
  });
});
