import { errors } from '../errors.js';
import type { Router } from '../http/router.js';
import { channelPayload, guildPayload, memberPayload, rolePayload } from '../payloads.js';
import type { Services } from './services.js';

export function registerGuildRoutes(router: Router, s: Services): void {
  const { state } = s;
  const guild = (id: string | undefined) => {
    if (!id || !state.guilds.has(id) || !state.member(id, state.bot.id)) throw errors.unknownGuild();
    return id;
  };
  router.add('GET', '/guilds/:guild', ({ params, query }) => {
    const id = guild(params.guild);
    const g = guildPayload(state, id, false);
    if (query.get('with_counts') === 'true') {
      Object.assign(g, {
        approximate_member_count: state.guildMembers(id).length,
        approximate_presence_count: 0,
      });
    }
    return g;
  });
  router.add('GET', '/guilds/:guild/channels', ({ params }) =>
    state.guildChannels(guild(params.guild)).map((c) => channelPayload(state, c)),
  );
  router.add('GET', '/guilds/:guild/roles', ({ params }) =>
    state.guildRoles(guild(params.guild)).map(rolePayload),
  );
  router.add('GET', '/guilds/:guild/members', ({ params, query }) => {
    const limit = Math.min(1000, Number(query.get('limit') ?? 1) || 1);
    return state
      .guildMembers(guild(params.guild))
      .slice(0, limit)
      .map((m) => memberPayload(state, m));
  });
  router.add('GET', '/guilds/:guild/members/:user', ({ params }) => {
    const userId = params.user === '@me' ? state.bot.id : params.user!;
    const m = state.member(guild(params.guild), userId);
    if (!m) throw errors.unknownMember();
    return memberPayload(state, m);
  });
}
