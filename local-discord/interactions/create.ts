import { randomBytes } from 'node:crypto';
import type { AttachmentStore } from '../attachments.js';
import type { Gateway } from '../gateway/gateway.js';
import type { Limits } from '../limits.js';
import type { MessageService } from '../messages/service.js';
import { attachmentPayload, interactionMemberPayload, userPayload } from '../payloads.js';
import { nextSnowflake } from '../snowflake.js';
import type { State } from '../store/state.js';
import type { CommandRecord, MessageRecord } from '../store/types.js';
import { buildOptions, type OptionValues } from './options.js';
import { baseInteractionPayload } from './payload.js';
import type { InteractionKind, InteractionRecord, InteractionRegistry } from './registry.js';

/** Thrown when a user could not do this in a real Discord client (unknown command, no such button). */
export class ImpossibleActionError extends Error {}

/** Builds interactions the way Discord does when a user acts, and dispatches INTERACTION_CREATE. */
export class InteractionFactory {
  constructor(
    private readonly state: State,
    private readonly limits: Limits,
    private readonly registry: InteractionRegistry,
    private readonly messages: MessageService,
    private readonly attachments: AttachmentStore,
    private readonly gateway: Gateway,
  ) {}

  /** `/name [group] [sub]` with options, checked against the registered definition. */
  async command(
    userId: string,
    channelId: string,
    fullName: string,
    values: OptionValues,
  ): Promise<InteractionRecord> {
    const [name = '', ...path] = fullName.trim().split(/\s+/);
    const channel = this.requireChannel(userId, channelId);
    const cmd = this.findCommand(name, 1, channel.guildId);
    const built = await buildOptions(cmd.data.options as never, values, path, {
      upload: async (file) =>
        attachmentPayload(
          await this.attachments.store(
            channelId,
            { filename: file.name, data: Buffer.from(file.data), contentType: file.contentType ?? null },
            {
              ephemeral: true,
              trustContentType: file.contentType !== undefined,
              ...(file.url ? { fakeUrl: file.url } : {}),
            },
          ),
        ),
      user: (id) => {
        const u = this.state.users.get(id);
        if (!u) return undefined;
        const m = channel.guildId ? this.state.member(channel.guildId, id) : undefined;
        if (!m) return { user: userPayload(u) };
        const { user: _user, ...member } = interactionMemberPayload(this.state, m);
        return { user: userPayload(u), member: member as never };
      },
    });
    const data: Record<string, unknown> = { id: cmd.id, name: cmd.data.name, type: 1 };
    if (built.options.length > 0) data.options = built.options;
    if (Object.keys(built.resolved).length > 0) data.resolved = built.resolved;
    if (cmd.guildId) data.guild_id = cmd.guildId;
    return this.emit('command', 2, fullName.trim(), userId, channelId, null, { data });
  }

  /** Message context-menu command ("Apps > name" on a message). */
  contextMenu(userId: string, message: MessageRecord, name: string): InteractionRecord {
    const channel = this.requireChannel(userId, message.channelId);
    const cmd = this.findCommand(name, 3, channel.guildId);
    const data = {
      id: cmd.id,
      name: cmd.data.name,
      type: 3,
      target_id: message.id,
      resolved: { messages: { [message.id]: this.messages.payload(message) } },
      ...(cmd.guildId ? { guild_id: cmd.guildId } : {}),
    };
    return this.emit('context-menu', 2, name, userId, message.channelId, null, { data });
  }

  /** A button press; the button must exist on the message and not be disabled or a link. */
  button(userId: string, message: MessageRecord, customId: string): InteractionRecord {
    this.requireChannel(userId, message.channelId);
    if (message.visibleTo && message.visibleTo !== userId)
      throw new ImpossibleActionError('message not visible to user');
    const button = findButton(message.components, customId);
    if (!button) throw new ImpossibleActionError(`no button ${customId} on message ${message.id}`);
    if (button.disabled) throw new ImpossibleActionError(`button ${customId} is disabled`);
    const data = { custom_id: customId, component_type: 2 };
    const extra = { data, message: this.messages.payload(message) };
    return this.emit('button', 3, customId, userId, message.channelId, message.id, extra);
  }

  /** Submits the modal a previous interaction opened, with text-input values by custom_id. */
  modalSubmit(userId: string, opener: InteractionRecord, fields: Record<string, string>): InteractionRecord {
    const modal = opener.modal;
    if (!modal) throw new ImpossibleActionError(`interaction ${opener.id} did not open a modal`);
    if (opener.userId !== userId)
      throw new ImpossibleActionError('a modal is shown only to the user who opened it');
    const known = modalInputIds(modal);
    for (const id of Object.keys(fields))
      if (!known.includes(id)) throw new ImpossibleActionError(`modal has no input ${id}`);
    const data = {
      custom_id: modal.custom_id,
      components: known.map((id) => ({
        type: 1,
        components: [{ type: 4, custom_id: id, value: fields[id] ?? '' }],
      })),
    };
    const source = opener.sourceMessageId ? this.state.messages.get(opener.sourceMessageId) : undefined;
    const extra: Record<string, unknown> = { data };
    if (source && !source.deleted) extra.message = this.messages.payload(source);
    return this.emit(
      'modal-submit',
      5,
      String(modal.custom_id),
      userId,
      opener.channelId,
      source?.id ?? null,
      extra,
    );
  }

  private emit(
    kind: InteractionKind,
    type: 2 | 3 | 5,
    name: string,
    userId: string,
    channelId: string,
    sourceMessageId: string | null,
    extra: Record<string, unknown>,
  ): InteractionRecord {
    const channel = this.state.channels.get(channelId)!;
    const now = Date.now();
    const rec: InteractionRecord = {
      id: nextSnowflake(now),
      token: `aW50ZXJhY3Rpb246${randomBytes(48).toString('base64url')}`,
      type,
      kind,
      name,
      userId,
      channelId,
      guildId: channel.guildId,
      createdAt: now,
      tokenExpiresAt: now + this.limits.tokenLifetimeMs,
      tokenRevoked: false,
      state: 'pending',
      response: null,
      ackAt: null,
      ephemeral: false,
      sourceMessageId,
      originalMessageId: null,
      followUpIds: [],
      modal: null,
      lateCallbacks: 0,
      ackTimer: null,
    };
    this.registry.add(rec);
    this.gateway.dispatch('INTERACTION_CREATE', {
      ...baseInteractionPayload(this.state, this.limits, rec),
      ...extra,
    });
    return rec;
  }

  private requireChannel(userId: string, channelId: string) {
    const channel = this.state.channels.get(channelId);
    if (!channel) throw new ImpossibleActionError(`unknown channel ${channelId}`);
    if (!this.state.inChannel(channel, userId))
      throw new ImpossibleActionError(`user ${userId} cannot see channel ${channelId}`);
    return channel;
  }

  /** Guild commands shadow global ones of the same name, as in the Discord client. */
  private findCommand(name: string, type: number, guildId: string | null): CommandRecord {
    const all = [...this.state.commands.values()].filter(
      (c) => c.data.name === name && (c.data.type ?? 1) === type,
    );
    const found =
      all.find((c) => guildId !== null && c.guildId === guildId) ?? all.find((c) => c.guildId === null);
    if (!found) throw new ImpossibleActionError(`command ${name} (type ${type}) is not registered`);
    if (guildId === null && found.data.contexts && !(found.data.contexts as number[]).includes(1)) {
      throw new ImpossibleActionError(`command ${name} is not available in DMs`);
    }
    return found;
  }
}

function findButton(components: unknown[], customId: string): { disabled?: boolean } | undefined {
  for (const row of components as {
    components?: { type?: number; custom_id?: string; disabled?: boolean }[];
  }[]) {
    const hit = row.components?.find((c) => c.type === 2 && c.custom_id === customId);
    if (hit) return hit;
  }
  return undefined;
}

/** Text-input custom_ids of a modal (action rows or label components wrapping text inputs). */
export function modalInputIds(modal: Record<string, unknown>): string[] {
  const ids: string[] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: number; custom_id?: string; components?: unknown[]; component?: unknown };
    if (n.type === 4 && n.custom_id) ids.push(n.custom_id);
    for (const c of n.components ?? []) walk(c);
    if (n.component) walk(n.component);
  };
  for (const c of (modal.components as unknown[]) ?? []) walk(c);
  return ids;
}
