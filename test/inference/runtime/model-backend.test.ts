/**
 * WorkerBackend's choice of worker for an LLM batch session: the one with the fewest open sessions, so two
 * batches decode on two workers even when the first batch's worker is idle between its steps.
 */
import { describe, expect, it } from 'vitest';
import { WorkerBackend } from '../../../inference/runtime/model-backend.js';
import type { WorkerClient } from '../../../inference/runtime/worker-client.js';

/** A stand-in for a model worker that records the sessions it was asked to run and answers at once. */
function fakeWorker(index: number) {
  const calls: { op: string; sessionId?: number }[] = [];
  const worker = {
    index,
    inFlight: 0,
    calls,
    call: (request: { op: string; sessionId?: number }) => {
      calls.push({ op: request.op, sessionId: request.sessionId });
      return Promise.resolve(new Float32Array(1));
    },
  };
  return worker;
}

const step = (s: ReturnType<WorkerBackend['openLlm']>) =>
  s.step(BigInt64Array.of(1n), BigInt64Array.of(1n, 1n), BigInt64Array.of(1n), 1);

describe('WorkerBackend.openLlm', () => {
  it('puts a second batch on the other worker although the first batch is idle between steps', async () => {
    const [w0, w1] = [fakeWorker(0), fakeWorker(1)];
    const backend = new WorkerBackend([w0, w1] as unknown as WorkerClient[]);
    const first = backend.openLlm();
    await step(first); // nothing in flight on either worker now
    const second = backend.openLlm();
    await step(second);
    expect(w0.calls.filter((c) => c.op === 'llmStep')).toHaveLength(1);
    expect(w1.calls.filter((c) => c.op === 'llmStep')).toHaveLength(1);
  });

  it('counts a released session once, and reuses its worker', async () => {
    const [w0, w1] = [fakeWorker(0), fakeWorker(1)];
    const backend = new WorkerBackend([w0, w1] as unknown as WorkerClient[]);
    const a = backend.openLlm(); // w0
    const b = backend.openLlm(); // w1
    a.release();
    a.release(); // a second release must not free a slot twice
    const c = backend.openLlm(); // w0 again (0 open there, 1 on w1)
    const d = backend.openLlm(); // tie at one each: the first worker
    await Promise.all([step(b), step(c), step(d)]);
    expect(w0.calls.filter((x) => x.op === 'llmStep')).toHaveLength(2);
    expect(w1.calls.filter((x) => x.op === 'llmStep')).toHaveLength(1);
    expect(w0.calls.filter((x) => x.op === 'llmRelease')).toHaveLength(1);
  });

  it('breaks a tie in open sessions by the calls in flight', async () => {
    const [w0, w1] = [fakeWorker(0), fakeWorker(1)];
    w0.inFlight = 2; // e.g. denoiser chunks running there
    const backend = new WorkerBackend([w0, w1] as unknown as WorkerClient[]);
    await step(backend.openLlm());
    expect(w1.calls.map((c) => c.op)).toEqual(['llmStep']);
  });
});
