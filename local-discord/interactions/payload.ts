import type { Limits } from '../limits.js';
import { channelPayload, interactionMemberPayload, userPayload } from '../payloads.js';
import { EVERYONE_DEFAULT } from '../permissions.js';
import type { State } from '../store/state.js';
import type { InteractionRecord } from './registry.js';

/**
 * Fields every interaction carries. discord.js reads `entitlements`, `authorizing_integration_owners`,
 * `app_permissions`, `locale`, `attachment_size_limit` and `version` unconditionally, so all are present.
 */
export function baseInteractionPayload(
  state: State,
  limits: Limits,
  rec: InteractionRecord,
): Record<string, unknown> {
  const user = state.users.get(rec.userId)!;
  const channel = state.channels.get(rec.channelId)!;
  const base: Record<string, unknown> = {
    id: rec.id,
    application_id: state.applicationId,
    type: rec.type,
    token: rec.token,
    version: 1,
    channel: channelPayload(state, channel),
    channel_id: channel.id,
    locale: user.locale,
    entitlements: [],
    attachment_size_limit: limits.maxFileSize,
  };
  if (rec.guildId) {
    const guild = state.guilds.get(rec.guildId)!;
    const member = state.member(rec.guildId, rec.userId)!;
    Object.assign(base, {
      guild_id: guild.id,
      guild: { id: guild.id, locale: guild.preferredLocale, features: [] },
      guild_locale: guild.preferredLocale,
      member: interactionMemberPayload(state, member),
      app_permissions: state.permissions(guild.id, state.bot.id).toString(),
      // "0" = installed to the guild; the value names the guild, as on Discord.
      authorizing_integration_owners: { '0': guild.id },
      context: 0,
    });
  } else {
    Object.assign(base, {
      user: userPayload(user),
      app_permissions: EVERYONE_DEFAULT.toString(),
      authorizing_integration_owners: { '0': '0' },
      // 1 = BOT_DM
      context: 1,
    });
  }
  return base;
}
