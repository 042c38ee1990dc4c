import type { RepliableInteraction } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { interactionView } from '../../../bot/interactions/views.js';
import { silentLogger } from '../../../bot/logger.js';

/** Just enough of an interaction: editReply and a channel that records sends and edits. */
function fakeInteraction(createdTimestamp: number, editError?: { code: number }) {
  const log: string[] = [];
  const channelMessage = {
    id: 'm2',
    channelId: 'c1',
    edit: async (o: { content: string }) => void log.push(`channel-edit:${o.content}`),
  };
  const interaction = {
    id: 'i1',
    createdTimestamp,
    channelId: 'c1',
    channel: {
      isSendable: () => true,
      send: async (o: { content: string; allowedMentions: unknown }) => {
        log.push(`channel-send:${o.content}`);
        expect(o.allowedMentions).toEqual({ parse: [], repliedUser: false });
        return channelMessage;
      },
    },
    editReply: async (o: { content: string; attachments: unknown[] }) => {
      if (editError) throw Object.assign(new Error('Invalid Webhook Token'), editError);
      expect(o.attachments).toEqual([]); // results replace previews
      log.push(`reply-edit:${o.content}`);
      return { id: 'm1', channelId: 'c1' };
    },
  } as unknown as RepliableInteraction;
  return { interaction, log };
}

describe('interactionView', () => {
  it('edits the deferred reply while the token is valid', async () => {
    let now = 1000;
    const { interaction, log } = fakeInteraction(1000);
    const seen: string[] = [];
    const view = interactionView(interaction, {
      tokenLifetimeMs: 10_000,
      now: () => now,
      logger: silentLogger,
      onMessage: (_c, m) => seen.push(m),
    });
    await view.update({ content: 'queued' });
    now = 5000;
    await view.update({ content: 'progress' });
    expect(log).toEqual(['reply-edit:queued', 'reply-edit:progress']);
    expect(seen).toEqual(['m1']);
  });

  it('continues as a channel message once the token is about to expire', async () => {
    let now = 1000;
    const { interaction, log } = fakeInteraction(1000);
    const view = interactionView(interaction, {
      tokenLifetimeMs: 10_000,
      now: () => now,
      logger: silentLogger,
    });
    await view.update({ content: 'queued' });
    now = 1000 + 9500; // inside the safety margin before expiry
    await view.update({ content: 'done' });
    await view.update({ content: 'done again' });
    expect(log).toEqual(['reply-edit:queued', 'channel-send:done', 'channel-edit:done again']);
  });

  it('falls back when Discord says the token is already invalid', async () => {
    const { interaction, log } = fakeInteraction(0, { code: 50027 });
    const view = interactionView(interaction, { tokenLifetimeMs: 1e9, now: () => 1, logger: silentLogger });
    await view.update({ content: 'result' });
    expect(log).toEqual(['channel-send:result']);
  });

  it('does not hide other errors behind the fallback', async () => {
    const { interaction } = fakeInteraction(0, { code: 50013 });
    const view = interactionView(interaction, { tokenLifetimeMs: 1e9, now: () => 1, logger: silentLogger });
    await expect(view.update({ content: 'x' })).rejects.toThrow();
  });
});
