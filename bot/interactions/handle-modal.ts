/** Modal submits: questions and edit instructions typed after a context menu or an Edit button. */
import type { Message, ModalSubmitInteraction } from 'discord.js';
import { decodeCustomId } from '../components/custom-id.js';
import { MODAL_TEXT_FIELD } from '../components/modals.js';
import type { BotContext } from '../context.js';
import { UserError } from '../errors.js';
import type { ImageData } from '../inference/client.js';
import { loadJob, outputAt } from './handle-button.js';
import { pickMessageImage } from './message-image.js';
import { acquireTicket, checkText, guard, holdingTicket, precheckAttachments, readImages } from './policy.js';
import { createJobFor, runJobInReply } from './start-job.js';
import { askImage } from './text-jobs.js';

async function fetchTargetMessage(interaction: ModalSubmitInteraction, messageId: string): Promise<Message> {
  const channel =
    interaction.channel ?? (await interaction.client.channels.fetch(interaction.channelId ?? ''));
  if (!channel?.isTextBased()) throw new UserError('I cannot read that channel any more.');
  return channel.messages.fetch(messageId).catch(() => {
    throw new UserError('I cannot find that message any more (deleted?).');
  });
}

async function editJob(
  ctx: BotContext,
  interaction: ModalSubmitInteraction,
  instruction: string,
  image: () => Promise<ImageData>,
): Promise<void> {
  const settings = guard(ctx, interaction, 'edit');
  const ticket = acquireTicket(ctx, interaction.user.id, settings);
  const job = await holdingTicket(ticket, async () => {
    await interaction.deferReply();
    return createJobFor(ctx, interaction, { kind: 'edit', instruction, count: 1 }, [await image()]);
  });
  await runJobInReply(ctx, interaction, job, ticket);
}

export async function handleModal(interaction: ModalSubmitInteraction, ctx: BotContext): Promise<void> {
  const id = decodeCustomId(interaction.customId);
  if (!id) throw new UserError('This form is from an older version of the bot. Please try again.');
  const text = interaction.fields.getTextInputValue(MODAL_TEXT_FIELD);
  switch (id.action) {
    case 'ask-msg': {
      const question = checkText(ctx, text, 'question');
      const message = await fetchTargetMessage(interaction, id.id);
      return askImage(ctx, interaction, pickMessageImage(message), question);
    }
    case 'edit-msg': {
      const instruction = checkText(ctx, text, 'instruction');
      const attachment = pickMessageImage(await fetchTargetMessage(interaction, id.id));
      precheckAttachments(ctx, [attachment], interaction.attachmentSizeLimit);
      return editJob(ctx, interaction, instruction, async () => {
        const [image] = await readImages(ctx, [attachment], interaction.attachmentSizeLimit);
        return image!;
      });
    }
    case 'edit-job': {
      const instruction = checkText(ctx, text, 'instruction');
      const out = outputAt(loadJob(ctx, id.id), id.index ?? 0);
      return editJob(ctx, interaction, instruction, async () => out.image);
    }
    default:
      throw new UserError('That form does not do anything here.');
  }
}
