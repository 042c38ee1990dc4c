import type { APIMessage } from 'discord.js';
import { LOADING } from './messages/service.js';
import type { LocalDiscord } from './server.js';
import { compareSnowflakes } from './snowflake.js';

/**
 * The bot's answer to `targetId`, if there is one yet.
 * Interaction: its response or a follow-up, once no longer "thinking"; for a button update, the
 * source message only after it was edited. Throws when the interaction failed, so waits end at once.
 * Message: the first later message of the bot in the same channel.
 */
export function findReply(
  server: LocalDiscord,
  targetId: string,
  match: (m: APIMessage) => boolean,
): APIMessage | undefined {
  const { registry, messages } = server.services;
  const live = (id: string) => {
    const m = server.state.messages.get(id);
    return m && !m.deleted ? messages.payload(m) : undefined;
  };
  const rec = registry.get(targetId);
  if (rec) {
    if (rec.state === 'failed')
      throw new Error(`interaction ${rec.name} failed: The application did not respond`);
    const ids = [rec.originalMessageId, ...rec.followUpIds].filter((x): x is string => x !== null);
    for (const id of ids) {
      const m = live(id);
      if (!m || (m.flags ?? 0) & LOADING) continue;
      const editedAfter = m.edited_timestamp !== null && Date.parse(m.edited_timestamp) >= rec.createdAt;
      if (id === rec.sourceMessageId && !editedAfter) continue;
      if (match(m)) return m;
    }
    return undefined;
  }
  const source = server.state.messages.get(targetId);
  if (!source) throw new Error(`unknown message or interaction ${targetId}`);
  return server.state
    .channelMessages(source.channelId)
    .filter(
      (m) =>
        m.authorId === server.state.bot.id && m.visibleTo === null && compareSnowflakes(m.id, source.id) > 0,
    )
    .map((m) => messages.payload(m))
    .find(match);
}
