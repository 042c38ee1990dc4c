import { errors } from '../errors.js';
import type { Router } from '../http/router.js';
import type { MessageBody } from '../messages/validate.js';
import { channelPayload } from '../payloads.js';
import { Perm } from '../permissions.js';
import { compareSnowflakes } from '../snowflake.js';
import type { ChannelRecord } from '../store/types.js';
import type { Services } from './services.js';

export function registerChannelRoutes(router: Router, s: Services): void {
  const { state, messages } = s;
  const bot = state.bot.id;

  /** Channels the bot can see: those of its guilds and its own DMs. */
  const channel = (id: string | undefined): ChannelRecord => {
    const c = id ? state.channels.get(id) : undefined;
    if (!c) throw errors.unknownChannel();
    if (!state.inChannel(c, bot)) throw errors.missingAccess();
    return c;
  };
  const can = (c: ChannelRecord, perm: bigint) =>
    c.guildId === null || (state.permissions(c.guildId, bot) & perm) !== 0n;

  router.add('GET', '/channels/:channel', ({ params }) => channelPayload(state, channel(params.channel)));

  router.add('GET', '/channels/:channel/messages', ({ params, query }) => {
    const c = channel(params.channel);
    const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 50) || 50));
    const before = query.get('before');
    const after = query.get('after');
    let list = state.channelMessages(c.id).filter((m) => m.visibleTo === null);
    if (before) list = list.filter((m) => compareSnowflakes(m.id, before) < 0);
    if (after) list = list.filter((m) => compareSnowflakes(m.id, after) > 0);
    // Discord returns newest first; with `after` it returns the oldest ones after the id.
    list.sort((a, b) => compareSnowflakes(b.id, a.id));
    const page = after ? list.slice(-limit) : list.slice(0, limit);
    return page.map((m) => messages.payload(m));
  });

  router.add('GET', '/channels/:channel/messages/:message', ({ params }) => {
    const m = messages.get(channel(params.channel).id, params.message!);
    if (m.visibleTo !== null) throw errors.unknownMessage();
    return messages.payload(m);
  });

  router.add('POST', '/channels/:channel/messages', async ({ params, body }) => {
    const c = channel(params.channel);
    if (!can(c, Perm.SendMessages)) throw errors.missingAccess();
    const parsed = await body();
    const fields = await messages.fromBody(c.id, (parsed.json ?? {}) as MessageBody, parsed.files);
    if (fields.attachments?.length && !can(c, Perm.AttachFiles)) throw errors.missingAccess();
    // Ephemeral exists only for interaction responses; Discord ignores the flag here.
    const { flags = 0, ...rest } = fields;
    return messages.payload(
      messages.create({ ...rest, flags: flags & ~(1 << 6), channelId: c.id, authorId: bot }),
    );
  });

  router.add('PATCH', '/channels/:channel/messages/:message', async ({ params, body }) => {
    const c = channel(params.channel);
    const m = messages.get(c.id, params.message!);
    if (m.authorId !== bot) throw errors.notAuthor();
    const parsed = await body();
    const fields = await messages.fromBody(c.id, (parsed.json ?? {}) as MessageBody, parsed.files, m);
    return messages.payload(messages.update(m, fields));
  });

  router.add('DELETE', '/channels/:channel/messages/:message', ({ params }) => {
    const c = channel(params.channel);
    const m = messages.get(c.id, params.message!);
    if (m.authorId !== bot && !can(c, Perm.ManageMessages)) throw errors.missingAccess();
    messages.delete(m);
    return null;
  });

  router.add('POST', '/channels/:channel/typing', ({ params }) => {
    const c = channel(params.channel);
    s.events.emit('typing', { channelId: c.id, userId: bot, at: Date.now() });
    return null;
  });
}
