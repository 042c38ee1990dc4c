import { describe, expect, it } from 'vitest';
import { answerAboutImage } from '../../../bot/chat/answer-about-image.js';
import { InferenceError } from '../../../bot/inference/client.js';
import type { JobPayload } from '../../../bot/jobs/job-view.js';
import { UserJobLimiter } from '../../../bot/jobs/user-limiter.js';
import { silentLogger } from '../../../bot/logger.js';
import { JobStore } from '../../../bot/store/job-store.js';
import { FakeInference } from '../fake-inference.js';

function setup(question?: string) {
  const inference = new FakeInference();
  const updates: JobPayload[] = [];
  const view = { update: async (p: JobPayload) => void updates.push(p) };
  const deps = {
    inference,
    store: new JobStore(':memory:'),
    logger: silentLogger,
    upscaleSize: 128,
    progressIntervalMs: 10,
  };
  const limiter = new UserJobLimiter();
  const ticket = limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 });
  const image = { data: new Uint8Array([1, 2, 3]), mimeType: 'image/png' };
  const request = { userId: 'u1', channelId: 'c', image, ...(question ? { question } : {}) };
  const run = () => answerAboutImage(deps, request, view, async () => {}, ticket);
  return { inference, updates, run, limiter };
}

describe('answerAboutImage', () => {
  it('answers a question as /ask does, with the caption it read, and frees the ticket', async () => {
    const { inference, updates, run, limiter } = setup('what colour is it?');
    await run();
    expect(updates[0]!.content).toBe('💭 Thinking…');
    expect(updates.at(-1)!.content).toBe('> what colour is it?\nred\n-# read as: a red circle at the center');
    expect(inference.calls.map((c) => c.method)).toEqual(['ask']);
    expect(inference.calls[0]!.request).toMatchObject({ question: 'what colour is it?' });
    expect(limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 }).waitingBehind).toBe(0);
  });

  it('describes the image as /caption does when there is no question', async () => {
    const { inference, updates, run } = setup();
    expect(await run()).toBe('**Caption:** a red circle');
    expect(updates.at(-1)!.content).toBe('**Caption:** a red circle');
    expect(inference.calls.map((c) => c.method)).toEqual(['caption']);
  });

  it('reports a failed call in the reply and frees the ticket', async () => {
    const { inference, updates, run, limiter } = setup('how many circles are there');
    inference.failWith = new InferenceError('unavailable', 'no inference server is reachable');
    expect(await run()).toBeUndefined();
    expect(updates.at(-1)!.content).toMatch(/^The image server is down right now\./);
    expect(limiter.acquire('u1', { maxRunning: 1, maxQueued: 0 }).waitingBehind).toBe(0);
  });
});
