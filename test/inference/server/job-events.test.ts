/** The stream event writer: order, and the rate limit on plain progress events. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProgressEvent, Stage } from '../../../inference/runtime/api.js';
import type { CallContext } from '../../../inference/server/call-context.js';
import { createJobEventWriter, type JobEventBody } from '../../../inference/server/job-events.js';
import { silentLogger } from '../../../inference/server/logger.js';
import { solidImage } from './fake-runtime.js';

function setup(progressIntervalMs: number) {
  const controller = new AbortController();
  let started = 0;
  const ctx: CallContext = {
    rpc: 'Generate',
    requestId: 'r',
    log: silentLogger,
    signal: controller.signal,
    models: new Map(),
    markStarted: () => {
      started++;
    },
    recordOutput: () => {},
  };
  const written: JobEventBody[] = [];
  const writer = createJobEventWriter(ctx, 'OUTPUT_FORMAT_PNG', (b) => written.push(b), {
    progressIntervalMs,
  });
  const job = writer.jobContext({ previews: false });
  const progress = (stage: Stage, step: number, preview = false): ProgressEvent => ({
    fraction: step / 10,
    stage,
    step,
    totalSteps: 10,
    ...(preview ? { preview: solidImage(4, [1, 2, 3]) } : {}),
  });
  /** What was written, compactly: "stage:step" for progress, the delta for text, "queued:N". */
  const seen = () =>
    written.map((b) =>
      'progress' in b
        ? `${b.progress.stage}:${b.progress.step}${b.progress.preview ? '+preview' : ''}`
        : 'queued' in b
          ? `queued:${b.queued.position}`
          : b.text_delta,
    );
  /** Lets the writer's promise chain run (it writes in microtasks). */
  const settle = () => vi.advanceTimersByTimeAsync(0);
  return { controller, writer, job, progress, seen, settle, started: () => started };
}

describe('job event writer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes every progress event when the interval is 0', async () => {
    const { writer, job, progress, seen } = setup(0);
    for (let i = 1; i <= 5; i++) job.onProgress?.(progress('tokens', i));
    await writer.flush();
    expect(seen()).toEqual(['tokens:1', 'tokens:2', 'tokens:3', 'tokens:4', 'tokens:5']);
  });

  it('sends the first event at once, holds the newest of a burst and sends it when the interval is over', async () => {
    const { writer, job, progress, seen, settle, started } = setup(100);
    for (let i = 1; i <= 5; i++) {
      job.onProgress?.(progress('tokens', i));
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(seen()).toEqual(['tokens:1']);
    expect(started()).toBe(5); // every event still marks the job started
    await vi.advanceTimersByTimeAsync(60); // 100 ms after the first
    expect(seen()).toEqual(['tokens:1', 'tokens:5']);
    await vi.advanceTimersByTimeAsync(500);
    expect(seen()).toEqual(['tokens:1', 'tokens:5']); // nothing held, nothing more
    job.onProgress?.(progress('tokens', 6)); // a quiet interval has passed: at once
    await settle();
    expect(seen()).toEqual(['tokens:1', 'tokens:5', 'tokens:6']);
    await writer.flush();
  });

  it('sends previews at once, and the held event before the result', async () => {
    const { writer, job, progress, seen } = setup(100);
    job.onProgress?.(progress('tokens', 1));
    job.onProgress?.(progress('tokens', 2)); // held, then replaced by the preview
    job.onProgress?.(progress('tokens', 3, true));
    job.onProgress?.(progress('tokens', 4));
    job.onProgress?.(progress('decode', 1));
    job.onProgress?.(progress('decode', 2)); // held; each replaced by the next
    await writer.flush(); // what the result waits for: the held (last) progress goes first
    expect(seen()).toEqual(['tokens:1', 'tokens:3+preview', 'decode:2']);
  });

  it('keeps the order: a held progress event goes before any later event', async () => {
    const { writer, job, progress, seen } = setup(100);
    job.onProgress?.(progress('tokens', 1));
    job.onProgress?.(progress('tokens', 2));
    writer.push(() => ({ text_delta: 'a' }));
    job.onQueue?.({ position: 2, queueLength: 3 });
    await writer.flush();
    expect(seen()).toEqual(['tokens:1', 'tokens:2', 'a', 'queued:2']);
  });

  it('writes nothing held once the call is cancelled', async () => {
    const { controller, writer, job, progress, seen } = setup(100);
    job.onProgress?.(progress('tokens', 1));
    job.onProgress?.(progress('tokens', 2));
    await vi.advanceTimersByTimeAsync(0);
    controller.abort();
    await vi.advanceTimersByTimeAsync(200);
    await writer.flush();
    expect(seen()).toEqual(['tokens:1']);
  });
});
