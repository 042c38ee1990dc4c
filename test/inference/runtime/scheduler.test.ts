import { describe, expect, it } from 'vitest';
import { type QueueEvent, RuntimeError } from '../../../inference/runtime/api.js';
import type { JobControl } from '../../../inference/runtime/job-control.js';
import { Scheduler } from '../../../inference/runtime/scheduler.js';

/** A fake job: runs `steps` model steps of 5 ms, checking for cancellation between them. */
function fakeWork(steps: number, log: number[] = []) {
  return async (job: JobControl) => {
    for (let i = 0; i < steps; i++) {
      job.throwIfStopped();
      job.steps++;
      log.push(i);
      await new Promise((r) => setTimeout(r, 5));
    }
    return job.steps;
  };
}

const kindOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: RuntimeError) => e.kind,
  );
const signal = () => new AbortController().signal;

describe('Scheduler', () => {
  it('runs up to maxRunning at once and queues the rest in order', async () => {
    const s = new Scheduler(5, 2);
    const events: QueueEvent[][] = [[], [], [], []];
    const jobs = events.map((ev) => s.run({ signal: signal(), onQueue: (e) => ev.push(e) }, fakeWork(2)));
    expect(s.stats()).toEqual({ queued: 2, running: 2, maxQueue: 5 });
    expect(events[0]).toEqual([]);
    expect(events[2]).toEqual([
      { position: 1, queueLength: 1 },
      { position: 1, queueLength: 2 },
    ]);
    expect(events[3]).toEqual([{ position: 2, queueLength: 2 }]);
    expect(await Promise.all(jobs)).toEqual([2, 2, 2, 2]);
    expect(events[3]!.at(-1)).toEqual({ position: 1, queueLength: 1 });
    expect(s.stats()).toEqual({ queued: 0, running: 0, maxQueue: 5 });
  });

  it('rejects with resource_exhausted beyond maxQueue', async () => {
    const s = new Scheduler(1, 1);
    const a = s.run({ signal: signal() }, fakeWork(1));
    const b = s.run({ signal: signal() }, fakeWork(1));
    const c = s.run({ signal: signal() }, fakeWork(1));
    await expect(c).rejects.toThrow('server busy: 1 jobs queued, retry later');
    expect(await kindOf(c)).toBe('resource_exhausted');
    await Promise.all([a, b]);
  });

  it('cancels a queued job at once and moves the others up', async () => {
    const s = new Scheduler(5, 1);
    const running = s.run({ signal: signal() }, fakeWork(3));
    const ctrl = new AbortController();
    const started: number[] = [];
    const queued = s.run({ signal: ctrl.signal }, fakeWork(3, started));
    const events: QueueEvent[] = [];
    const third = s.run({ signal: signal(), onQueue: (e) => events.push(e) }, fakeWork(1));
    ctrl.abort();
    expect(await kindOf(queued)).toBe('cancelled');
    expect(events.at(-1)).toEqual({ position: 1, queueLength: 1 });
    await Promise.all([running, third]);
    expect(started).toEqual([]); // the cancelled job never ran
  });

  it('stops a running job at its next step boundary', async () => {
    const s = new Scheduler(5, 1);
    const ctrl = new AbortController();
    const log: number[] = [];
    const job = s.run({ signal: ctrl.signal }, fakeWork(100, log));
    await new Promise((r) => setTimeout(r, 12));
    ctrl.abort();
    const stepsAtAbort = log.length;
    expect(await kindOf(job)).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 30));
    expect(log.length).toBeLessThanOrEqual(stepsAtAbort + 1);
    expect(s.stats().running).toBe(0);
  });

  it('honours deadlines for queued and running jobs', async () => {
    const s = new Scheduler(5, 1);
    const log: number[] = [];
    const running = s.run({ signal: signal(), deadline: Date.now() + 20 }, fakeWork(100, log));
    const queued = s.run({ signal: signal(), deadline: Date.now() + 10 }, fakeWork(1));
    expect(await kindOf(queued)).toBe('deadline_exceeded');
    expect(await kindOf(running)).toBe('deadline_exceeded');
    expect(log.length).toBeLessThan(100);
    expect(await kindOf(s.run({ signal: signal(), deadline: Date.now() - 1 }, fakeWork(1)))).toBe(
      'deadline_exceeded',
    );
  });

  it('rejects an already aborted request and passes work errors through', async () => {
    const s = new Scheduler(5, 1);
    const ctrl = new AbortController();
    ctrl.abort();
    expect(await kindOf(s.run({ signal: ctrl.signal }, fakeWork(1)))).toBe('cancelled');
    const boom = s.run({ signal: signal() }, async () => {
      throw new RuntimeError('invalid_argument', 'bad');
    });
    expect(await kindOf(boom)).toBe('invalid_argument');
    expect(s.stats().running).toBe(0);
  });

  it('close() rejects queued work with unavailable', async () => {
    const s = new Scheduler(5, 1);
    const running = s.run({ signal: signal() }, fakeWork(2));
    const queued = s.run({ signal: signal() }, fakeWork(2));
    s.close();
    expect(await kindOf(queued)).toBe('unavailable');
    expect(await kindOf(s.run({ signal: signal() }, fakeWork(1)))).toBe('unavailable');
    await running;
  });
});
