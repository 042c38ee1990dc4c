/** In-memory records of the local Discord. Payload builders turn them into API objects. */

export interface UserRecord {
  id: string;
  username: string;
  globalName: string | null;
  bot: boolean;
  locale: string;
}

export interface RoleRecord {
  id: string;
  guildId: string;
  name: string;
  permissions: bigint;
  position: number;
}

export interface MemberRecord {
  guildId: string;
  userId: string;
  roleIds: string[];
  nick: string | null;
  joinedAt: string;
}

export interface GuildRecord {
  id: string;
  name: string;
  ownerId: string;
  preferredLocale: string;
}

/** 0 = GUILD_TEXT, 1 = DM (Discord's channel types). */
export interface ChannelRecord {
  id: string;
  type: 0 | 1;
  guildId: string | null;
  name: string | null;
  nsfw: boolean;
  position: number;
  /** DM channels: the two participants. */
  recipientIds: string[];
  lastMessageId: string | null;
}

export interface AttachmentRecord {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxyUrl: string;
  contentType: string;
  width: number | null;
  height: number | null;
  description: string | null;
  ephemeral: boolean;
}

export interface InteractionMetadata {
  id: string;
  type: number;
  userId: string;
  name?: string;
  /** Component interactions: the message the button was on. */
  interactedMessageId?: string;
}

export interface MessageRecord {
  id: string;
  channelId: string;
  guildId: string | null;
  authorId: string;
  /** Discord message type: 0 default, 19 reply, 20 chat-input command, 23 context-menu command. */
  type: number;
  content: string;
  attachments: AttachmentRecord[];
  embeds: unknown[];
  components: unknown[];
  flags: number;
  tts: boolean;
  mentionIds: string[];
  mentionRoleIds: string[];
  mentionEveryone: boolean;
  referenceId: string | null;
  webhookId: string | null;
  applicationId: string | null;
  interaction: InteractionMetadata | null;
  /** Ephemeral messages are visible to one user only and never dispatched. */
  visibleTo: string | null;
  createdAt: number;
  editedAt: number | null;
  deleted: boolean;
}

export interface CommandRecord {
  id: string;
  applicationId: string;
  guildId: string | null;
  version: string;
  /** The JSON the bot registered, minus fields the server owns. */
  data: Record<string, unknown> & { name: string; type: number };
}
