import { describe, expect, it } from 'vitest';
import { runChat } from '../../../bot/chat/run-chat.js';
import type { JobPayload } from '../../../bot/jobs/job-view.js';
import { UserJobLimiter } from '../../../bot/jobs/user-limiter.js';
import { silentLogger } from '../../../bot/logger.js';
import { JobStore } from '../../../bot/store/job-store.js';
import { FakeInference, generated } from '../fake-inference.js';

function setup() {
  const inference = new FakeInference();
  const store = new JobStore(':memory:');
  const updates: JobPayload[] = [];
  const more: string[] = [];
  const view = { update: async (p: JobPayload) => void updates.push(p) };
  const deps = { inference, store, logger: silentLogger, upscaleSize: 128, progressIntervalMs: 10 };
  const ticket = new UserJobLimiter().acquire('u1', { maxRunning: 1, maxQueued: 0 });
  const request = {
    userId: 'u1',
    guildId: null,
    channelId: 'c',
    turns: [{ role: 'user' as const, parts: [{ kind: 'text' as const, text: 'hi' }] }],
  };
  const run = () => runChat(deps, request, view, async (t) => void more.push(t), ticket);
  return { inference, store, updates, more, run };
}

describe('runChat', () => {
  it('answers with text and splits long answers without losing any of it', async () => {
    const { inference, updates, more, run } = setup();
    const long = 'word '.repeat(1000).trim();
    inference.chatAnswer = [
      { kind: 'text', delta: long },
      { kind: 'done', text: long, finishReason: 'end' },
    ];
    expect(await run()).toEqual({ kind: 'text', text: long });
    const parts = [updates.at(-1)!.content, ...more];
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.join('')).toBe(long);
    expect(inference.calls[0]!.method).toBe('chat');
  });

  it('answers with an image that gets a stored job and buttons', async () => {
    const { inference, store, updates, run } = setup();
    inference.chatAnswer = [
      { kind: 'done', text: '', image: await generated('#0000ff', 9n), finishReason: 'image' },
    ];
    const outcome = await run();
    expect(outcome?.kind).toBe('image');
    const jobId = (outcome as { jobId: string }).jobId;
    expect(store.getJob(jobId)!.outputs[0]!.seed).toBe('9');
    const final = updates.at(-1)!;
    expect(final.files).toHaveLength(1);
    expect(final.buttons!.flat().map((b) => b.label)).toEqual([
      'Edit',
      'Reveal',
      'Variations',
      'Use as blend input',
    ]);
  });

  it('reports a stream that ends without an answer', async () => {
    const { inference, updates, run } = setup();
    inference.chatAnswer = [{ kind: 'text', delta: 'partial' }];
    expect(await run()).toBeUndefined();
    expect(updates.at(-1)!.content).toMatch(/went wrong/);
  });
});
