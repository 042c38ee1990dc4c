import type { APIMessage } from 'discord.js';
import type { AttachmentStore } from '../attachments.js';
import { errors } from '../errors.js';
import type { LocalDiscordEvents } from '../events.js';
import type { UploadedFile } from '../http/body.js';
import type { Limits } from '../limits.js';
import { type AllowedMentions, computeMentions } from '../mentions.js';
import { messagePayload } from '../payloads.js';
import { Perm } from '../permissions.js';
import { nextSnowflake } from '../snowflake.js';
import type { State } from '../store/state.js';
import type { AttachmentRecord, InteractionMetadata, MessageRecord } from '../store/types.js';
import { type MessageBody, validateAttachmentCount, validateMessageBody } from './validate.js';

/** How messages reach the bot; implemented by the gateway. */
export interface MessageDispatcher {
  dispatchMessage(
    t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE',
    d: unknown,
    meta: { isDm: boolean; contentVisible: boolean },
  ): void;
}

export const EPHEMERAL = 1 << 6;
export const LOADING = 1 << 7;
const SUPPRESS_EMBEDS = 1 << 2;
const SUPPRESS_NOTIFICATIONS = 1 << 12;

export interface NewMessage {
  channelId: string;
  authorId: string;
  content?: string;
  attachments?: AttachmentRecord[];
  type?: number;
  flags?: number;
  referenceId?: string | null;
  webhookId?: string | null;
  applicationId?: string | null;
  interaction?: InteractionMetadata | null;
  visibleTo?: string | null;
  embeds?: unknown[];
  components?: unknown[];
  allowedMentions?: AllowedMentions;
}

/** Creates, edits and deletes messages; keeps every version; tells the gateway and listeners. */
export class MessageService {
  /** Every version of every message, oldest first (progress edits stay visible to tests). */
  private readonly history = new Map<string, APIMessage[]>();

  constructor(
    private readonly state: State,
    private readonly attachments: AttachmentStore,
    private readonly events: LocalDiscordEvents,
    private readonly gateway: MessageDispatcher,
    private readonly limits: Limits,
  ) {}

  payload(m: MessageRecord): APIMessage {
    return messagePayload(this.state, m);
  }

  versions(id: string): APIMessage[] {
    return [...(this.history.get(id) ?? [])];
  }

  get(channelId: string, id: string): MessageRecord {
    const m = this.state.messages.get(id);
    if (!m || m.deleted || m.channelId !== channelId) throw errors.unknownMessage();
    return m;
  }

  /** Validates a REST body (JSON or multipart) and turns it into message fields. */
  async fromBody(
    channelId: string,
    body: MessageBody,
    files: UploadedFile[],
    existing?: MessageRecord,
  ): Promise<Partial<NewMessage>> {
    validateMessageBody(body, this.limits);
    for (const f of files) if (f.data.length > this.limits.maxFileSize) throw errors.entityTooLarge();
    const out: Partial<NewMessage> = {};
    if (typeof body.content === 'string') out.content = body.content;
    else if (body.content === null && existing) out.content = '';
    if (Array.isArray(body.embeds)) out.embeds = body.embeds;
    if (Array.isArray(body.components)) out.components = body.components;
    if (typeof body.flags === 'number') out.flags = body.flags;
    if (body.allowed_mentions && typeof body.allowed_mentions === 'object') {
      out.allowedMentions = body.allowed_mentions as AllowedMentions;
    }
    const ref = body.message_reference as { message_id?: string } | undefined;
    if (ref?.message_id) out.referenceId = ref.message_id;
    const attachments = await this.resolveAttachments(channelId, body.attachments, files, existing);
    if (attachments) {
      validateAttachmentCount(attachments.length, this.limits);
      out.attachments = attachments;
    }
    return out;
  }

  private async resolveAttachments(
    channelId: string,
    list: unknown,
    files: UploadedFile[],
    existing?: MessageRecord,
  ): Promise<AttachmentRecord[] | undefined> {
    validateAttachmentCount(files.length, this.limits);
    const upload = (f: UploadedFile, meta?: { filename?: string; description?: string }) =>
      this.attachments.store(channelId, {
        filename: meta?.filename ?? f.filename,
        data: f.data,
        contentType: f.contentType,
        description: meta?.description ?? null,
      });
    if (!Array.isArray(list)) {
      if (files.length === 0) return undefined;
      const added = await Promise.all(files.map((f) => upload(f)));
      return [...(existing?.attachments ?? []), ...added];
    }
    // v10: the list names every attachment the message keeps (by id) and every new one (by file index).
    const result: AttachmentRecord[] = [];
    for (const entry of list as { id?: string | number; filename?: string; description?: string }[]) {
      const id = String(entry.id);
      const kept = existing?.attachments.find((a) => a.id === id);
      if (kept) {
        result.push(kept);
        continue;
      }
      const file = files.find((f) => String(f.index) === id);
      if (file) result.push(await upload(file, entry));
    }
    return result;
  }

  /** Stores a new message and dispatches MESSAGE_CREATE unless it is ephemeral. */
  create(input: NewMessage): MessageRecord {
    const channel = this.state.channels.get(input.channelId);
    if (!channel) throw errors.unknownChannel();
    const flags = input.flags ?? 0;
    const m: MessageRecord = {
      id: nextSnowflake(),
      channelId: channel.id,
      guildId: channel.guildId,
      authorId: input.authorId,
      type: input.type ?? (input.referenceId ? 19 : 0),
      content: input.content ?? '',
      attachments: input.attachments ?? [],
      embeds: input.embeds ?? [],
      components: input.components ?? [],
      flags: flags & (EPHEMERAL | LOADING | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS),
      tts: false,
      mentionIds: [],
      mentionRoleIds: [],
      mentionEveryone: false,
      referenceId: input.referenceId ?? null,
      webhookId: input.webhookId ?? null,
      applicationId: input.applicationId ?? null,
      interaction: input.interaction ?? null,
      visibleTo: input.visibleTo ?? null,
      createdAt: Date.now(),
      editedAt: null,
      deleted: false,
    };
    if (isEmpty(m) && !(m.flags & LOADING)) throw errors.emptyMessage();
    if (m.referenceId) {
      const ref = this.state.messages.get(m.referenceId);
      if (!ref || ref.deleted || ref.channelId !== m.channelId) throw errors.unknownMessage();
    }
    this.applyMentions(m, input.allowedMentions);
    this.state.messages.set(m.id, m);
    if (!m.visibleTo) channel.lastMessageId = m.id;
    const payload = this.snapshot(m);
    if (!m.visibleTo) this.dispatch('MESSAGE_CREATE', m, payload);
    this.events.emit('messageCreate', payload);
    return m;
  }

  /** Applies an edit; refuses one that would leave the message empty, as Discord does. */
  update(m: MessageRecord, changes: Partial<NewMessage>): MessageRecord {
    const next = { ...m };
    if (changes.content !== undefined) next.content = changes.content;
    if (changes.attachments !== undefined) next.attachments = changes.attachments;
    if (changes.embeds !== undefined) next.embeds = changes.embeds;
    if (changes.components !== undefined) next.components = changes.components;
    if (changes.flags !== undefined)
      next.flags = (m.flags & ~SUPPRESS_EMBEDS) | (changes.flags & SUPPRESS_EMBEDS);
    if (isEmpty(next) && !(m.flags & LOADING)) throw errors.emptyMessage();
    // The first edit of a deferred reply turns the "thinking..." placeholder into the answer.
    next.flags &= ~LOADING;
    next.editedAt = Date.now();
    Object.assign(m, next);
    if (changes.content !== undefined || changes.allowedMentions)
      this.applyMentions(m, changes.allowedMentions);
    const payload = this.snapshot(m);
    if (!m.visibleTo) this.dispatch('MESSAGE_UPDATE', m, payload);
    this.events.emit('messageUpdate', payload);
    return m;
  }

  delete(m: MessageRecord): void {
    m.deleted = true;
    if (!m.visibleTo) {
      const d = { id: m.id, channel_id: m.channelId, ...(m.guildId ? { guild_id: m.guildId } : {}) };
      this.gateway.dispatchMessage('MESSAGE_DELETE', d, { isDm: m.guildId === null, contentVisible: true });
    }
    this.events.emit('messageDelete', { id: m.id, channelId: m.channelId });
  }

  private applyMentions(m: MessageRecord, allowed: AllowedMentions | undefined): void {
    const ref = m.referenceId ? this.state.messages.get(m.referenceId) : undefined;
    const mentions = computeMentions({
      content: m.content,
      allowed,
      knownUserIds: (id) => this.state.users.has(id),
      knownRoleIds: (id) => this.state.roles.has(id),
      repliedAuthorId: ref?.authorId ?? null,
      canMentionEveryone:
        m.guildId === null || (this.state.permissions(m.guildId, m.authorId) & Perm.MentionEveryone) !== 0n,
    });
    m.mentionIds = mentions.userIds;
    m.mentionRoleIds = mentions.roleIds;
    m.mentionEveryone = mentions.everyone;
  }

  private snapshot(m: MessageRecord): APIMessage {
    const payload = this.payload(m);
    const list = this.history.get(m.id) ?? [];
    list.push(payload);
    this.history.set(m.id, list);
    return payload;
  }

  private dispatch(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE', m: MessageRecord, payload: APIMessage): void {
    const bot = this.state.bot.id;
    // Without the Message Content intent a bot still sees DMs, its own messages and mentions of it.
    const contentVisible = m.guildId === null || m.authorId === bot || m.mentionIds.includes(bot);
    this.gateway.dispatchMessage(t, payload, { isDm: m.guildId === null, contentVisible });
  }
}

function isEmpty(m: {
  content: string;
  attachments: unknown[];
  embeds: unknown[];
  components: unknown[];
}): boolean {
  return (
    m.content.length === 0 && m.attachments.length === 0 && m.embeds.length === 0 && m.components.length === 0
  );
}
