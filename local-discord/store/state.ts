import { combinePermissions, EVERYONE_DEFAULT } from '../permissions.js';
import { nextSnowflake } from '../snowflake.js';
import type {
  ChannelRecord,
  CommandRecord,
  GuildRecord,
  MemberRecord,
  MessageRecord,
  RoleRecord,
  UserRecord,
} from './types.js';

/** Everything the local Discord knows, in memory. Mutations go through the services, not routes. */
export class State {
  readonly users = new Map<string, UserRecord>();
  readonly guilds = new Map<string, GuildRecord>();
  readonly roles = new Map<string, RoleRecord>();
  /** key `${guildId}:${userId}` */
  readonly members = new Map<string, MemberRecord>();
  readonly channels = new Map<string, ChannelRecord>();
  readonly messages = new Map<string, MessageRecord>();
  readonly commands = new Map<string, CommandRecord>();
  readonly bot: UserRecord;
  readonly applicationId: string;

  constructor(botName: string) {
    this.bot = this.addUser({ username: botName, bot: true });
    // Discord bots use their user id as application id; the bot relies on nothing else.
    this.applicationId = this.bot.id;
  }

  addUser(opts: { username: string; bot?: boolean; globalName?: string; locale?: string }): UserRecord {
    const user: UserRecord = {
      id: nextSnowflake(),
      username: opts.username,
      globalName: opts.globalName ?? null,
      bot: opts.bot ?? false,
      locale: opts.locale ?? 'en-US',
    };
    this.users.set(user.id, user);
    return user;
  }

  /** A guild with its @everyone role (id = guild id, as on Discord); the bot joins it. */
  addGuild(opts: { name: string; ownerId: string; preferredLocale?: string }): GuildRecord {
    const guild: GuildRecord = {
      id: nextSnowflake(),
      name: opts.name,
      ownerId: opts.ownerId,
      preferredLocale: opts.preferredLocale ?? 'en-US',
    };
    this.guilds.set(guild.id, guild);
    this.roles.set(guild.id, {
      id: guild.id,
      guildId: guild.id,
      name: '@everyone',
      permissions: EVERYONE_DEFAULT,
      position: 0,
    });
    this.addMember(guild.id, this.bot.id);
    this.addMember(guild.id, opts.ownerId);
    return guild;
  }

  addRole(guildId: string, name: string, permissions: bigint): RoleRecord {
    const position = [...this.roles.values()].filter((r) => r.guildId === guildId).length;
    const role: RoleRecord = { id: nextSnowflake(), guildId, name, permissions, position };
    this.roles.set(role.id, role);
    return role;
  }

  addMember(guildId: string, userId: string, roleIds: string[] = []): MemberRecord {
    const key = `${guildId}:${userId}`;
    const existing = this.members.get(key);
    if (existing) {
      existing.roleIds = [...new Set([...existing.roleIds, ...roleIds])];
      return existing;
    }
    const member: MemberRecord = { guildId, userId, roleIds, nick: null, joinedAt: new Date().toISOString() };
    this.members.set(key, member);
    return member;
  }

  member(guildId: string, userId: string): MemberRecord | undefined {
    return this.members.get(`${guildId}:${userId}`);
  }

  /** Whether the user is in the channel: a member of its guild, or one of its DM recipients. */
  inChannel(channel: ChannelRecord, userId: string): boolean {
    return channel.guildId
      ? this.member(channel.guildId, userId) !== undefined
      : channel.recipientIds.includes(userId);
  }

  guildMembers(guildId: string): MemberRecord[] {
    return [...this.members.values()].filter((m) => m.guildId === guildId);
  }

  guildRoles(guildId: string): RoleRecord[] {
    return [...this.roles.values()].filter((r) => r.guildId === guildId);
  }

  guildChannels(guildId: string): ChannelRecord[] {
    return [...this.channels.values()].filter((c) => c.guildId === guildId);
  }

  addTextChannel(guildId: string, name: string, opts: { nsfw?: boolean } = {}): ChannelRecord {
    const channel: ChannelRecord = {
      id: nextSnowflake(),
      type: 0,
      guildId,
      name,
      nsfw: opts.nsfw ?? false,
      position: this.guildChannels(guildId).length,
      recipientIds: [],
      lastMessageId: null,
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** The one DM channel between the bot and a user (created on first use, like Discord). */
  dmChannel(userId: string): ChannelRecord {
    for (const c of this.channels.values()) {
      if (c.type === 1 && c.recipientIds.includes(userId)) return c;
    }
    const channel: ChannelRecord = {
      id: nextSnowflake(),
      type: 1,
      guildId: null,
      name: null,
      nsfw: false,
      position: 0,
      recipientIds: [this.bot.id, userId],
      lastMessageId: null,
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** Guild-wide permissions of a user (no channel overwrites in this model). */
  permissions(guildId: string, userId: string): bigint {
    const guild = this.guilds.get(guildId);
    const member = this.member(guildId, userId);
    if (!guild || !member) return 0n;
    const everyone = this.roles.get(guildId)?.permissions ?? 0n;
    const rolePerms = member.roleIds.map((id) => this.roles.get(id)?.permissions ?? 0n);
    return combinePermissions([everyone, ...rolePerms], guild.ownerId === userId);
  }

  /** Messages of a channel, oldest first, excluding deleted ones. */
  channelMessages(channelId: string): MessageRecord[] {
    return [...this.messages.values()].filter((m) => m.channelId === channelId && !m.deleted);
  }
}
