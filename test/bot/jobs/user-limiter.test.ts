import { describe, expect, it } from 'vitest';
import { UserError } from '../../../bot/errors.js';
import { UserJobLimiter } from '../../../bot/jobs/user-limiter.js';

const limits = { maxRunning: 1, maxQueued: 1 };

describe('UserJobLimiter', () => {
  it('runs the first job, queues the second, refuses the third with a retry time', () => {
    let t = 1_000_000;
    const limiter = new UserJobLimiter(() => t);
    const a = limiter.acquire('u1', limits);
    expect(a.waitingBehind).toBe(0);
    const b = limiter.acquire('u1', limits);
    expect(b.waitingBehind).toBe(1);
    let error: unknown;
    try {
      limiter.acquire('u1', limits);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    // No history yet: estimate 20 s after the running job started.
    expect((error as Error).message).toContain(`<t:${Math.ceil((t + 20_000) / 1000)}:R>`);
    t += 5000;
    expect(limiter.load('u1')).toEqual({ running: 1, waiting: 1 });
  });

  it('starts the waiting job when the running one is released', async () => {
    const limiter = new UserJobLimiter();
    const a = limiter.acquire('u1', limits);
    const b = limiter.acquire('u1', limits);
    let started = false;
    void b.ready.then(() => {
      started = true;
    });
    await Promise.resolve();
    expect(started).toBe(false);
    a.release();
    await b.ready;
    expect(started).toBe(true);
    expect(limiter.load('u1')).toEqual({ running: 1, waiting: 0 });
    b.release();
    b.release(); // twice is harmless
    expect(limiter.load('u1')).toEqual({ running: 0, waiting: 0 });
  });

  it('keeps users independent', () => {
    const limiter = new UserJobLimiter();
    limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 });
    expect(() => limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 })).toThrow(UserError);
    expect(limiter.acquire('u2', { maxRunning: 1, maxQueued: 0 }).waitingBehind).toBe(0);
  });

  it('releasing a waiting ticket gives up its place and rejects its wait', async () => {
    const limiter = new UserJobLimiter();
    limiter.acquire('u1', limits);
    const b = limiter.acquire('u1', limits);
    b.release();
    await expect(b.ready).rejects.toThrow(/cancelled/);
    expect(limiter.load('u1')).toEqual({ running: 1, waiting: 0 });
  });

  it('estimates retry times from recent job durations', () => {
    let t = 0;
    const limiter = new UserJobLimiter(() => t);
    const a = limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 });
    t = 4000;
    a.release();
    expect(limiter.averageJobMs()).toBe(4000);
  });
});
