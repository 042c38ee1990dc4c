/**
 * Chat entry point: a DM, a mention, or a reply to the bot. Builds the conversation from the reply
 * chain, then runs it as the matching command would (classify-intent.ts): an edit of the newest image,
 * a new image, that image's caption or an answer about it; anything else goes to the chat model.
 */
import type { Message } from 'discord.js';
import type { AttachmentInfo } from '../attachments/check-attachment.js';
import type { BotContext } from '../context.js';
import { describeError, isExpectedError, UserError } from '../errors.js';
import type { ChatTurn, ImageData } from '../inference/client.js';
import { messageImages } from '../interactions/message-image.js';
import {
  acquireTicket,
  checkText,
  guard,
  jobDeps,
  precheckAttachments,
  readImages,
} from '../interactions/policy.js';
import { type MessageJobView, messageView, NO_PINGS } from '../interactions/views.js';
import { runImageJob } from '../jobs/run-image-job.js';
import type { Feature, GuildSettings } from '../settings/guild-settings.js';
import { answerAboutImage } from './answer-about-image.js';
import { buildTurns, type DraftTurn, lastImage } from './build-turns.js';
import { type ChatIntent, classifyChatIntent, withoutLeadIns } from './classify-intent.js';
import { type ChainMessage, collectReplyChain } from './reply-chain.js';
import { runChat } from './run-chat.js';

export function toChainMessage(message: Message, botId: string): ChainMessage {
  const fromBot = message.author.id === botId;
  const images = messageImages(message);
  return {
    id: message.id,
    authorId: message.author.id,
    fromBot,
    // Our image results carry a metadata line (seed, job id); the image is the answer, not that text.
    text: fromBot && images.length > 0 ? '' : message.content,
    images,
    parentId: message.reference?.messageId,
  };
}

export function isAddressedToBot(message: Message, botId: string): boolean {
  if (message.author.bot || message.system) return false;
  return (
    !message.inGuild() || message.mentions.users.has(botId) || message.mentions.repliedUser?.id === botId
  );
}

export async function handleMessage(message: Message, ctx: BotContext): Promise<void> {
  const botId = message.client.user.id;
  if (!isAddressedToBot(message, botId)) return;
  try {
    await answer(message, ctx, botId);
  } catch (err) {
    if (isExpectedError(err)) ctx.logger.debug('chat refused', { messageId: message.id, err });
    else ctx.logger.error('chat failed', { messageId: message.id, userId: message.author.id, err });
    await message
      .reply({
        content: describeError(err, `m${message.id}`),
        allowedMentions: NO_PINGS,
        failIfNotExists: false,
      })
      .catch((e) => ctx.logger.warn('could not report a chat error', { messageId: message.id, err: e }));
  }
}

async function answer(message: Message, ctx: BotContext, botId: string): Promise<void> {
  const settings = guard(ctx, message, 'chat');
  precheckAttachments(ctx, messageImages(message));
  const chain = await collectReplyChain(
    toChainMessage(message, botId),
    async (id) => toChainMessage(await message.channel.messages.fetch(id), botId),
    ctx.config.chat.maxDepth,
  );
  const turns = buildTurns(chain, botId, ctx.config.chat.maxImages);
  const request = turns.at(-1)!;
  const text = request.text.trim() === '' ? '' : checkText(ctx, request.text, 'message');
  if (text === '' && request.images.length === 0) {
    throw new UserError('Ask me something, or attach an image. `/help` lists what I can do.');
  }
  const source = lastImage(turns);
  const intent = routeIntent(classifyChatIntent(text, source !== undefined), settings);
  const ticket = acquireTicket(ctx, message.author.id, settings);
  if (message.channel.isSendable()) void message.channel.sendTyping().catch(() => {});
  const where = { userId: message.author.id, guildId: message.guildId, channelId: message.channelId };
  const postMore = async (view: MessageJobView, chunk: string) => {
    // Each continuation replies to the previous part, so replying to any part keeps the whole answer.
    const previous = view.current();
    if (!previous) return;
    await previous.reply({ content: chunk, allowedMentions: NO_PINGS, failIfNotExists: false });
  };

  if (intent === 'draw') {
    const params = { kind: 'imagine' as const, prompt: withoutLeadIns(text), count: 1 };
    const job = ctx.store.createJob({ ...where, params });
    const view = messageView(message, (c, m) => ctx.store.setMessage(job.id, c, m));
    await runImageJob(jobDeps(ctx), job, view, ticket, ctx.shutdown);
    return;
  }
  if (intent !== 'chat' && source) {
    let image: ImageData;
    try {
      [image] = (await readImages(ctx, [source])) as [ImageData];
    } catch (err) {
      ticket.release();
      throw err;
    }
    if (intent === 'edit') {
      const job = ctx.store.createJob({
        ...where,
        params: { kind: 'edit', instruction: text, count: 1 },
        inputs: [image],
      });
      const view = messageView(message, (c, m) => ctx.store.setMessage(job.id, c, m));
      await runImageJob(jobDeps(ctx), job, view, ticket, ctx.shutdown);
      return;
    }
    const view = messageView(message);
    const question = intent === 'ask' ? text : undefined;
    const request = { ...where, image, ...(question === undefined ? {} : { question }) };
    await answerAboutImage(jobDeps(ctx), request, view, (c) => postMore(view, c), ticket, ctx.shutdown);
    return;
  }

  let chatTurns: ChatTurn[];
  try {
    chatTurns = await resolveTurns(ctx, turns, new Set(messageImages(message).map((a) => a.url)));
  } catch (err) {
    ticket.release();
    throw err;
  }
  const view = messageView(message);
  const more = (chunk: string) => postMore(view, chunk);
  await runChat(jobDeps(ctx), { ...where, turns: chatTurns }, view, more, ticket, ctx.shutdown);
}

const FEATURE_OF: Record<Exclude<ChatIntent, 'chat'>, Feature> = {
  edit: 'edit',
  draw: 'imagine',
  describe: 'caption',
  ask: 'ask',
};

/** A message whose command is turned off on this server goes to the chat model instead. */
function routeIntent(intent: ChatIntent, settings: GuildSettings): ChatIntent {
  return intent === 'chat' || !settings.disabledFeatures.includes(FEATURE_OF[intent]) ? intent : 'chat';
}

/**
 * Downloads the images of the conversation. The new message's own images must load (errors reach
 * the user); older ones that fail (expired, deleted) are left out with a log line.
 */
async function resolveTurns(ctx: BotContext, turns: DraftTurn[], required: Set<string>): Promise<ChatTurn[]> {
  const load = async (att: AttachmentInfo): Promise<ImageData | undefined> => {
    try {
      return (await readImages(ctx, [att]))[0];
    } catch (err) {
      if (required.has(att.url)) throw err;
      ctx.logger.info('skipping an image of the conversation', { url: att.url, err });
      return undefined;
    }
  };
  const resolved = await Promise.all(
    turns.map(async (turn): Promise<ChatTurn> => {
      const images = (await Promise.all(turn.images.map(load))).filter(
        (i): i is ImageData => i !== undefined,
      );
      return {
        role: turn.role,
        parts: [
          ...images.map((image) => ({ kind: 'image' as const, image })),
          ...(turn.text ? [{ kind: 'text' as const, text: turn.text }] : []),
        ],
      };
    }),
  );
  // A turn whose only image could not be loaded says nothing; the server rejects empty turns.
  return resolved.filter((t) => t.parts.length > 0);
}
