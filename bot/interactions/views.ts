/**
 * JobView implementations on Discord. An interaction's token lives 15 minutes: a job that outlives
 * it continues as an ordinary channel message instead of being lost.
 */
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  ButtonStyle,
  ComponentType,
  type Message,
  type MessageCreateOptions,
  RESTJSONErrorCodes,
  type RepliableInteraction,
} from 'discord.js';
import type { JobPayload, JobView } from '../jobs/job-view.js';
import type { Logger } from '../logger.js';

export const NO_PINGS = { parse: [] as never[], repliedUser: false };

export function toComponents(payload: JobPayload): APIActionRowComponent<APIButtonComponent>[] {
  return (payload.buttons ?? [])
    .filter((row) => row.length > 0)
    .map((row) => ({
      type: ComponentType.ActionRow,
      components: row.map((b) => ({
        type: ComponentType.Button,
        custom_id: b.customId,
        label: b.label,
        style: b.style === 'primary' ? ButtonStyle.Primary : ButtonStyle.Secondary,
      })),
    }));
}

function toMessageOptions(payload: JobPayload) {
  return {
    content: payload.content,
    files: (payload.files ?? []).map((f) => ({ attachment: f.data, name: f.name })),
    components: toComponents(payload),
    allowedMentions: NO_PINGS,
  };
}

/** Edit options also drop earlier attachments, so a result replaces its previews. */
function toEditOptions(payload: JobPayload) {
  return { ...toMessageOptions(payload), attachments: [] };
}

const EXPIRED_TOKEN_CODES = new Set<number>([
  RESTJSONErrorCodes.InvalidWebhookToken,
  RESTJSONErrorCodes.UnknownWebhook,
]);

export interface InteractionViewOptions {
  tokenLifetimeMs: number;
  now: () => number;
  logger: Logger;
  onMessage?: (channelId: string, messageId: string) => void;
}

/** Edits the interaction's (deferred) reply; after token expiry, posts and then edits a channel message. */
export function interactionView(interaction: RepliableInteraction, options: InteractionViewOptions): JobView {
  // Switch a little before expiry so an edit in flight does not race the deadline.
  const margin = Math.min(60_000, options.tokenLifetimeMs / 10);
  const expiresAt = interaction.createdTimestamp + options.tokenLifetimeMs - margin;
  let fallback: Message | undefined;
  let reportedMessage = false;

  const viaChannel = async (payload: JobPayload) => {
    if (fallback) {
      await fallback.edit(toEditOptions(payload));
      return;
    }
    const channel =
      interaction.channel ?? (await interaction.client.channels.fetch(interaction.channelId ?? ''));
    if (!channel?.isSendable())
      throw new Error('job outlived its interaction and the channel is not sendable');
    const create: MessageCreateOptions = toMessageOptions(payload);
    fallback = await channel.send(create);
    options.onMessage?.(fallback.channelId, fallback.id);
  };

  return {
    async update(payload) {
      if (fallback || options.now() >= expiresAt) return viaChannel(payload);
      try {
        const message = await interaction.editReply(toEditOptions(payload));
        if (!reportedMessage) {
          reportedMessage = true;
          options.onMessage?.(message.channelId, message.id);
        }
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code === undefined || !EXPIRED_TOKEN_CODES.has(code)) throw err;
        options.logger.info('interaction token expired; continuing in the channel', {
          interactionId: interaction.id,
        });
        await viaChannel(payload);
      }
    },
  };
}

export interface MessageJobView extends JobView {
  /** The reply once posted (chat continues long answers as replies to it). */
  current(): Message | undefined;
}

/** Replies to a message (chat) and then edits that reply. */
export function messageView(
  message: Message,
  onMessage?: (channelId: string, messageId: string) => void,
): MessageJobView {
  let reply: Message | undefined;
  return {
    current: () => reply,
    async update(payload) {
      if (reply) {
        await reply.edit(toEditOptions(payload));
        return;
      }
      reply = await message.reply({ ...toMessageOptions(payload), failIfNotExists: false });
      onMessage?.(reply.channelId, reply.id);
    },
  };
}
