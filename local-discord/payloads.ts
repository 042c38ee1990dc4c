import type {
  APIAttachment,
  APIChannel,
  APIGuildMember,
  APIInteractionGuildMember,
  APIMessage,
  APIRole,
  APIUser,
  ChannelFlags,
  GuildMemberFlags,
  RoleFlags,
  UserFlags,
} from 'discord.js';
import type { State } from './store/state.js';
import type {
  AttachmentRecord,
  ChannelRecord,
  MemberRecord,
  MessageRecord,
  RoleRecord,
  UserRecord,
} from './store/types.js';

/**
 * Record -> Discord API object. Typed against discord-api-types (re-exported by discord.js) so a
 * field discord.js reads cannot silently go missing.
 */
export function userPayload(u: UserRecord): APIUser {
  return {
    id: u.id,
    username: u.username,
    discriminator: '0',
    global_name: u.globalName,
    avatar: null,
    ...(u.bot ? { bot: true } : {}),
    public_flags: 0 as UserFlags,
  };
}

export function rolePayload(r: RoleRecord): APIRole {
  return {
    id: r.id,
    name: r.name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: r.position,
    permissions: r.permissions.toString(),
    managed: false,
    mentionable: false,
    flags: 0 as RoleFlags,
  };
}

export function memberPayload(state: State, m: MemberRecord): APIGuildMember {
  const user = state.users.get(m.userId)!;
  return {
    user: userPayload(user),
    nick: m.nick,
    avatar: null,
    banner: null,
    roles: m.roleIds,
    joined_at: m.joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  };
}

/** Members inside interactions carry their computed permissions. */
export function interactionMemberPayload(state: State, m: MemberRecord): APIInteractionGuildMember {
  return { ...memberPayload(state, m), permissions: state.permissions(m.guildId, m.userId).toString() };
}

export function channelPayload(state: State, c: ChannelRecord): APIChannel {
  if (c.type === 1) {
    return {
      id: c.id,
      type: 1,
      recipients: c.recipientIds
        .filter((id) => id !== state.bot.id)
        .map((id) => userPayload(state.users.get(id)!)),
      last_message_id: c.lastMessageId,
      flags: 0 as ChannelFlags,
      name: null,
    } as APIChannel;
  }
  return {
    id: c.id,
    type: 0,
    guild_id: c.guildId!,
    name: c.name ?? 'channel',
    position: c.position,
    permission_overwrites: [],
    topic: null,
    nsfw: c.nsfw,
    last_message_id: c.lastMessageId,
    rate_limit_per_user: 0,
    parent_id: null,
    flags: 0 as ChannelFlags,
  };
}

/** The full guild object of GUILD_CREATE (and, minus channels/members, of GET /guilds/{id}). */
export function guildPayload(state: State, guildId: string, withGateway: boolean): Record<string, unknown> {
  const g = state.guilds.get(guildId)!;
  const members = state.guildMembers(guildId);
  const base: Record<string, unknown> = {
    id: g.id,
    name: g.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: g.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: state.guildRoles(guildId).map(rolePayload),
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_progress_bar_enabled: false,
    preferred_locale: g.preferredLocale,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    nsfw_level: 0,
  };
  if (!withGateway) return base;
  return {
    ...base,
    joined_at: members.find((m) => m.userId === state.bot.id)?.joinedAt ?? new Date().toISOString(),
    large: false,
    unavailable: false,
    member_count: members.length,
    voice_states: [],
    members: members.map((m) => memberPayload(state, m)),
    channels: state.guildChannels(guildId).map((c) => channelPayload(state, c)),
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export function attachmentPayload(a: AttachmentRecord): APIAttachment {
  return {
    id: a.id,
    filename: a.filename,
    size: a.size,
    url: a.url,
    proxy_url: a.proxyUrl,
    content_type: a.contentType,
    ...(a.width !== null && a.height !== null ? { width: a.width, height: a.height } : {}),
    ...(a.description ? { description: a.description } : {}),
    ...(a.ephemeral ? { ephemeral: true } : {}),
  };
}

/** A message as Discord returns it; replies embed the referenced message one level deep. */
export function messagePayload(state: State, m: MessageRecord, depth = 0): APIMessage {
  const author = state.users.get(m.authorId)!;
  const ref = m.referenceId ? state.messages.get(m.referenceId) : undefined;
  const payload: APIMessage & Record<string, unknown> = {
    id: m.id,
    channel_id: m.channelId,
    author: userPayload(author),
    content: m.content,
    timestamp: new Date(m.createdAt).toISOString(),
    edited_timestamp: m.editedAt === null ? null : new Date(m.editedAt).toISOString(),
    tts: m.tts,
    mention_everyone: m.mentionEveryone,
    mentions: m.mentionIds.flatMap((id) => {
      const u = state.users.get(id);
      return u ? [userPayload(u)] : [];
    }),
    mention_roles: m.mentionRoleIds,
    attachments: m.attachments.map(attachmentPayload),
    embeds: m.embeds as APIMessage['embeds'],
    components: m.components as APIMessage['components'],
    pinned: false,
    type: m.type,
    flags: m.flags,
  };
  if (m.guildId) payload.guild_id = m.guildId;
  if (m.webhookId) payload.webhook_id = m.webhookId;
  if (m.applicationId) payload.application_id = m.applicationId;
  if (m.interaction) {
    const user = userPayload(state.users.get(m.interaction.userId)!);
    payload.interaction_metadata = {
      id: m.interaction.id,
      type: m.interaction.type,
      user,
      authorizing_integration_owners: {},
      ...(m.interaction.name ? { name: m.interaction.name } : {}),
      ...(m.interaction.interactedMessageId
        ? { interacted_message_id: m.interaction.interactedMessageId }
        : {}),
    } as APIMessage['interaction_metadata'];
  }
  if (m.referenceId) {
    payload.message_reference = {
      type: 0,
      message_id: m.referenceId,
      channel_id: m.channelId,
      ...(m.guildId ? { guild_id: m.guildId } : {}),
    };
    if (depth === 0) payload.referenced_message = ref && !ref.deleted ? messagePayload(state, ref, 1) : null;
  }
  if (m.guildId && depth === 0) {
    const member = state.member(m.guildId, m.authorId);
    if (member && !m.webhookId) {
      const { user: _user, ...rest } = memberPayload(state, member);
      payload.member = rest;
    }
  }
  return payload;
}
