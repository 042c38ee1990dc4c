import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applySettingsChange, defaultGuildSettings } from '../../../bot/settings/guild-settings.js';
import { JobStore, newJobId } from '../../../bot/store/job-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bot-store-'));
  dirs.push(dir);
  return join(dir, 'nested', 'bot.sqlite');
}

describe('JobStore', () => {
  it('keeps job parameters, inputs and outputs across a reopen (bot restart)', () => {
    const path = tempDbPath();
    const first = new JobStore(path);
    const job = first.createJob({
      userId: 'u1',
      guildId: 'g1',
      channelId: 'c1',
      params: { kind: 'edit', instruction: 'make it green', count: 1, seed: '18446744073709551615' },
      inputs: [{ data: new Uint8Array([1, 2, 3]), mimeType: 'image/png' }],
    });
    first.setMessage(job.id, 'c1', 'm1');
    first.completeJob(job.id, [
      { image: { data: new Uint8Array([9]), mimeType: 'image/png' }, seed: '42', tokens: [1, 2] },
    ]);
    first.close();

    const second = new JobStore(path);
    const loaded = second.getJob(job.id)!;
    expect(loaded.params).toEqual({
      kind: 'edit',
      instruction: 'make it green',
      count: 1,
      seed: '18446744073709551615',
    });
    expect(loaded.status).toBe('done');
    expect(loaded.messageId).toBe('m1');
    expect(Array.from(loaded.inputs[0]!.data)).toEqual([1, 2, 3]);
    expect(loaded.outputs).toEqual([
      { image: { data: new Uint8Array([9]), mimeType: 'image/png' }, seed: '42', tokens: [1, 2] },
    ]);
    second.close();
  });

  it('replaces outputs when a job is retried and records failures', () => {
    const store = new JobStore(':memory:');
    const job = store.createJob({
      userId: 'u',
      guildId: null,
      channelId: 'c',
      params: { kind: 'imagine', prompt: 'p', count: 2 },
    });
    const out = (n: number) => ({ image: { data: new Uint8Array([n]) }, seed: String(n), tokens: [] });
    store.completeJob(job.id, [out(1), out(2)]);
    store.completeJob(job.id, [out(3)]);
    expect(store.getJob(job.id)!.outputs.map((o) => o.seed)).toEqual(['3']);
    store.failJob(job.id);
    expect(store.getJob(job.id)!.status).toBe('failed');
    expect(store.getJob('nope')).toBeUndefined();
  });

  it('prunes old jobs with their images', () => {
    let t = 1000;
    const store = new JobStore(':memory:', () => t);
    const old = store.createJob({ userId: 'u', guildId: null, channelId: 'c', params: { kind: 'chat' } });
    t = 5000;
    const fresh = store.createJob({ userId: 'u', guildId: null, channelId: 'c', params: { kind: 'chat' } });
    expect(store.pruneJobsBefore(2000)).toBe(1);
    expect(store.getJob(old.id)).toBeUndefined();
    expect(store.getJob(fresh.id)).toBeDefined();
  });

  it('stores guild settings and pending blend picks', () => {
    const store = new JobStore(':memory:');
    expect(store.getGuildSettings('g')).toEqual(defaultGuildSettings());
    const s = applySettingsChange(defaultGuildSettings(), { kind: 'allow-channel', channelId: 'c9' });
    store.saveGuildSettings('g', s);
    expect(store.getGuildSettings('g').allowedChannelIds).toEqual(['c9']);
    expect(store.getGuildSettings(null)).toEqual(defaultGuildSettings());
    // Settings are cached per guild: callers get copies, and saving replaces what the next read sees.
    store.getGuildSettings('g').allowedChannelIds.push('mutated');
    expect(store.getGuildSettings('g').allowedChannelIds).toEqual(['c9']);
    store.saveGuildSettings('g', applySettingsChange(s, { kind: 'all-channels' }));
    expect(store.getGuildSettings('g').allowedChannelIds).toEqual([]);

    store.setBlendPick('u', 'job1', 0);
    store.setBlendPick('u', 'job2', 3);
    expect(store.takeBlendPick('u')).toEqual({ jobId: 'job2', index: 3 });
    expect(store.takeBlendPick('u')).toBeUndefined();
  });

  it('makes short unique ids that fit custom_ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, newJobId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{12}$/);
  });
});
