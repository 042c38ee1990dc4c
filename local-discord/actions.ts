import type { AttachmentStore } from './attachments.js';
import { ImpossibleActionError, type InteractionFactory } from './interactions/create.js';
import type { FileInput, OptionValues } from './interactions/options.js';
import type { InteractionRecord, InteractionRegistry } from './interactions/registry.js';
import type { Limits } from './limits.js';
import type { MessageService } from './messages/service.js';
import type { State } from './store/state.js';
import type { MessageRecord } from './store/types.js';

export interface UserMessageInput {
  content?: string;
  attachments?: FileInput[];
  /** Message id this one replies to. */
  replyTo?: string;
  /** Prefix the content with `<@bot>` so the bot counts as mentioned. */
  mentionBot?: boolean;
  /** A reply pings the replied-to author unless turned off (Discord's client default: on). */
  pingReply?: boolean;
}

/**
 * What a person can do in a Discord client, used by the test driver and the web page alike.
 * Each action is checked the way the client would (membership, visible buttons, registered commands),
 * and Discord's limits apply to users too (content length, file size, attachment count).
 */
export class UserActions {
  constructor(
    private readonly state: State,
    private readonly limits: Limits,
    private readonly messages: MessageService,
    private readonly attachments: AttachmentStore,
    private readonly factory: InteractionFactory,
    private readonly registry: InteractionRegistry,
  ) {}

  async sendMessage(userId: string, channelId: string, input: UserMessageInput): Promise<MessageRecord> {
    const channel = this.state.channels.get(channelId);
    if (!channel) throw new ImpossibleActionError(`unknown channel ${channelId}`);
    if (!this.state.inChannel(channel, userId))
      throw new ImpossibleActionError(`user ${userId} cannot post in ${channelId}`);
    let content = input.content ?? '';
    if (input.mentionBot) content = `<@${this.state.bot.id}> ${content}`.trimEnd();
    if ([...content].length > this.limits.maxContentLength)
      throw new ImpossibleActionError('content too long');
    const files = input.attachments ?? [];
    if (files.length > this.limits.maxAttachments) throw new ImpossibleActionError('too many attachments');
    for (const f of files)
      if (f.data.length > this.limits.maxFileSize) throw new ImpossibleActionError('file too large');
    const attachments = await Promise.all(
      files.map((f) =>
        this.attachments.store(
          channelId,
          { filename: f.name, data: Buffer.from(f.data), contentType: f.contentType ?? null },
          { trustContentType: f.contentType !== undefined, ...(f.url ? { fakeUrl: f.url } : {}) },
        ),
      ),
    );
    const allowedMentions =
      input.replyTo && input.pingReply === false
        ? { parse: ['users', 'roles', 'everyone'], replied_user: false }
        : undefined;
    return this.messages.create({
      channelId,
      authorId: userId,
      content,
      attachments,
      referenceId: input.replyTo ?? null,
      ...(allowedMentions ? { allowedMentions } : {}),
    });
  }

  runCommand(
    userId: string,
    channelId: string,
    name: string,
    options: OptionValues = {},
  ): Promise<InteractionRecord> {
    return this.factory.command(userId, channelId, name, options);
  }

  runContextMenu(userId: string, messageId: string, name: string): InteractionRecord {
    return this.factory.contextMenu(userId, this.visibleMessage(userId, messageId), name);
  }

  pressButton(userId: string, messageId: string, customId: string): InteractionRecord {
    return this.factory.button(userId, this.visibleMessage(userId, messageId), customId);
  }

  /** `opener` is the interaction that answered with a modal (by id), or a message whose button opened one. */
  submitModal(userId: string, opener: string, fields: Record<string, string>): InteractionRecord {
    const direct = this.registry.get(opener);
    const rec =
      direct ??
      this.registry
        .all()
        .filter((r) => r.sourceMessageId === opener && r.userId === userId && r.modal)
        .at(-1);
    if (!rec) throw new ImpossibleActionError(`no modal open for ${opener}`);
    return this.factory.modalSubmit(userId, rec, fields);
  }

  private visibleMessage(userId: string, messageId: string): MessageRecord {
    const m = this.state.messages.get(messageId);
    if (!m || m.deleted || (m.visibleTo !== null && m.visibleTo !== userId)) {
      throw new ImpossibleActionError(`message ${messageId} is not visible to ${userId}`);
    }
    return m;
  }
}
