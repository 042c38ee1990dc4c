import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InferenceError } from '../../../bot/inference/client.js';
import type { JobPayload } from '../../../bot/jobs/job-view.js';
import { runImageJob } from '../../../bot/jobs/run-image-job.js';
import { UserJobLimiter } from '../../../bot/jobs/user-limiter.js';
import { silentLogger } from '../../../bot/logger.js';
import { JobStore } from '../../../bot/store/job-store.js';
import { FakeInference, solidPng } from '../fake-inference.js';

function setup(progressIntervalMs = 50) {
  const inference = new FakeInference();
  const store = new JobStore(':memory:');
  const updates: JobPayload[] = [];
  const view = { update: async (p: JobPayload) => void updates.push(p) };
  const deps = { inference, store, logger: silentLogger, upscaleSize: 256, progressIntervalMs };
  const limiter = new UserJobLimiter();
  const job = store.createJob({
    userId: 'u1',
    guildId: 'g',
    channelId: 'c',
    params: { kind: 'imagine', prompt: 'a *red* circle', count: 2, seed: '5' },
  });
  return { inference, store, updates, view, deps, limiter, job };
}

describe('runImageJob', () => {
  it('moves from queued through throttled previews to upscaled results with buttons', async () => {
    const { inference, store, updates, view, deps, limiter, job } = setup(200);
    const preview = await solidPng('#888888');
    inference.jobEvents = [
      { kind: 'queued', position: 2, queueLength: 3 },
      ...Array.from({ length: 20 }, (_, i) => ({
        kind: 'progress' as const,
        fraction: i / 20,
        stage: 'tokens',
        step: i,
        totalSteps: 20,
        preview,
      })),
    ];
    const images = await runImageJob(deps, job, view, limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 }));
    expect(images).toHaveLength(2);
    // 21 events arrived at once: the throttle sends at most one of them before the result.
    expect(updates.length).toBeLessThanOrEqual(3);
    const final = updates.at(-1)!;
    expect(final.content).toContain('a \\*red\\* circle'); // user text cannot inject markdown
    expect(final.content).toContain(`job \`${job.id}\``);
    expect(final.files).toHaveLength(2);
    const meta = await sharp(final.files![0]!.data).metadata();
    expect([meta.width, meta.height]).toEqual([256, 256]);
    expect(final.buttons!.flat().map((b) => b.label)).toContain('Re-roll');
    expect(inference.calls[0]).toMatchObject({
      method: 'generate',
      request: { prompt: 'a *red* circle', count: 2, seed: 5n },
    });
    const stored = store.getJob(job.id)!;
    expect(stored.status).toBe('done');
    expect(stored.outputs.map((o) => o.seed)).toEqual(['1', '2']);
    expect(limiter.load('u1')).toEqual({ running: 0, waiting: 0 });
  });

  it("shows the model's plan under the request when the server sent one", async () => {
    const { inference, updates, view, deps, limiter, job } = setup();
    const plain = await runImageJob(deps, job, view, limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 }));
    expect(plain).toHaveLength(2);
    expect(updates.at(-1)!.content).not.toContain('planned');
    inference.resultPlan = 'a red circle at the top left';
    await runImageJob(deps, job, view, limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 }));
    const lines = updates.at(-1)!.content.split('\n');
    expect(lines[1]).toBe('-# planned: a red circle at the top left');
  });

  it('shows progress updates when events are spread out', async () => {
    const { inference, updates, view, deps, limiter, job } = setup(10);
    let release!: () => void;
    inference.gate = new Promise((r) => {
      release = r;
    });
    const run = runImageJob(deps, job, view, limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 }));
    await new Promise((r) => setTimeout(r, 100));
    expect(updates.some((u) => u.content.includes('Queued: position 2 of 3'))).toBe(true);
    release();
    await run;
  });

  it('reports an unreachable server with a retry button, keeps the job, frees the slot', async () => {
    const { inference, store, updates, view, deps, limiter, job } = setup();
    inference.failWith = new InferenceError('unavailable', 'connect ECONNREFUSED');
    expect(
      await runImageJob(deps, job, view, limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 })),
    ).toBeUndefined();
    const final = updates.at(-1)!;
    expect(final.content).toMatch(/down right now.*was saved, not lost/);
    expect(final.content).not.toContain('ECONNREFUSED');
    expect(final.buttons!.flat()[0]!.customId).toBe(`ddt1:retry:${job.id}`);
    expect(store.getJob(job.id)!.status).toBe('failed');
    expect(limiter.load('u1').running).toBe(0);
  });

  it('hides unexpected errors behind a generic line with the job id', async () => {
    const { inference, updates, view, deps, limiter, job } = setup();
    inference.failWith = new InferenceError('internal', 'stack trace secrets');
    await runImageJob(deps, job, view, limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 }));
    expect(updates.at(-1)!.content).toMatch(new RegExp(`went wrong on our side \\(job \`${job.id}\`\\)`));
    expect(updates.at(-1)!.content).not.toContain('secrets');
    expect(updates.at(-1)!.buttons).toEqual([]);
  });

  it('on shutdown offers Try again instead of losing the job', async () => {
    const { inference, updates, view, deps, limiter, job } = setup();
    let release!: () => void;
    inference.gate = new Promise((r) => {
      release = r;
    });
    const shutdown = new AbortController();
    const run = runImageJob(
      deps,
      job,
      view,
      limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 }),
      shutdown.signal,
    );
    await new Promise((r) => setTimeout(r, 20));
    shutdown.abort();
    release();
    await run;
    expect(updates.at(-1)!.content).toMatch(/restarting.*saved/);
    expect(updates.at(-1)!.buttons!.flat()[0]!.label).toBe('Try again');
  });

  it('tells a user whose earlier job is still running that this one waits', async () => {
    const { updates, view, deps, limiter, job } = setup();
    const first = limiter.acquire('u1', { maxRunning: 1, maxQueued: 1 });
    const second = limiter.acquire('u1', { maxRunning: 1, maxQueued: 1 });
    const run = runImageJob(deps, job, view, second);
    await new Promise((r) => setTimeout(r, 10));
    expect(updates[0]!.content).toContain('Waiting for your earlier job');
    first.release();
    await run;
    expect(updates.at(-1)!.files).toHaveLength(2);
  });
});
