import { Perm } from './permissions.js';
import type { State } from './store/state.js';
import type { ChannelRecord, GuildRecord, RoleRecord, UserRecord } from './store/types.js';

export interface DefaultWorld {
  guild: GuildRecord;
  channels: { general: ChannelRecord; art: ChannelRecord; nsfw: ChannelRecord };
  roles: { admin: RoleRecord; bot: RoleRecord };
  users: { alice: UserRecord; bob: UserRecord; carol: UserRecord };
}

/**
 * One guild as a newcomer would set it up: alice owns it and has an Admin role (Manage Server),
 * bob and carol are ordinary members; the bot's role may mention @everyone, so a bot that forgets
 * `allowed_mentions` really would ping everyone here.
 */
export function createDefaultWorld(state: State): DefaultWorld {
  const alice = state.addUser({ username: 'alice', globalName: 'Alice' });
  const bob = state.addUser({ username: 'bob', globalName: 'Bob' });
  const carol = state.addUser({ username: 'carol', globalName: 'Carol', locale: 'fr' });
  const guild = state.addGuild({ name: 'Local Guild', ownerId: alice.id });
  const admin = state.addRole(guild.id, 'Admin', Perm.ManageGuild | Perm.ManageMessages | Perm.ManageRoles);
  const bot = state.addRole(guild.id, 'Bot', Perm.MentionEveryone | Perm.ManageMessages);
  state.addMember(guild.id, alice.id, [admin.id]);
  state.addMember(guild.id, state.bot.id, [bot.id]);
  state.addMember(guild.id, bob.id);
  state.addMember(guild.id, carol.id);
  const general = state.addTextChannel(guild.id, 'general');
  const art = state.addTextChannel(guild.id, 'art');
  const nsfw = state.addTextChannel(guild.id, 'nsfw-art', { nsfw: true });
  return { guild, channels: { general, art, nsfw }, roles: { admin, bot }, users: { alice, bob, carol } };
}
