/** Caption and Ask: image in, text out. Shared by the slash commands, context menus and modals. */
import type { RepliableInteraction } from 'discord.js';
import type { AttachmentInfo } from '../attachments/check-attachment.js';
import type { BotContext } from '../context.js';
import { formatWaitingForUser } from '../jobs/job-status.js';
import type { Feature } from '../settings/guild-settings.js';
import { formatAnswer, formatCaption } from '../text/answers.js';
import { acquireTicket, guard, precheckAttachments, readImages } from './policy.js';
import { replyText } from './reply-text.js';

/**
 * Checks, acknowledges, then runs `work` on the downloaded image. If the interaction is already
 * acknowledged (a modal submit deferred early), it only edits the reply.
 */
async function imageToText(
  ctx: BotContext,
  interaction: RepliableInteraction,
  feature: Feature,
  attachment: AttachmentInfo,
  work: (image: Awaited<ReturnType<typeof readImages>>[number]) => Promise<string>,
): Promise<void> {
  const settings = guard(ctx, interaction, feature);
  precheckAttachments(ctx, [attachment], interaction.attachmentSizeLimit);
  const ticket = acquireTicket(ctx, interaction.user.id, settings);
  try {
    if (!interaction.deferred && !interaction.replied) await interaction.deferReply();
    await ctx.acks.afterAcks(); // the download and the model wait for other interactions' acknowledgements
    const [image] = await readImages(ctx, [attachment], interaction.attachmentSizeLimit);
    if (ticket.waitingBehind > 0) await interaction.editReply(formatWaitingForUser(ticket.waitingBehind));
    await ticket.ready;
    await replyText(interaction, await work(image!));
  } finally {
    ticket.release();
  }
}

export function captionImage(ctx: BotContext, interaction: RepliableInteraction, attachment: AttachmentInfo) {
  return imageToText(ctx, interaction, 'caption', attachment, async (image) => {
    return formatCaption(await ctx.inference.caption({ image }, { signal: ctx.shutdown }));
  });
}

/** `question` must already have passed checkText. */
export function askImage(
  ctx: BotContext,
  interaction: RepliableInteraction,
  attachment: AttachmentInfo,
  question: string,
) {
  return imageToText(ctx, interaction, 'ask', attachment, async (image) => {
    const { answer, caption } = await ctx.inference.ask({ image, question }, { signal: ctx.shutdown });
    return formatAnswer(question, answer, caption);
  });
}
