/** Modal submits: questions and edit instructions typed after a context menu or an Edit button. */
import type { Message, ModalSubmitInteraction } from 'discord.js';
import { decodeCustomId } from '../components/custom-id.js';
import { MODAL_TEXT_FIELD } from '../components/modals.js';
import type { BotContext } from '../context.js';
import { UserError } from '../errors.js';
import type { ImageData } from '../inference/client.js';
import { loadJob, outputAt } from './handle-button.js';
import { pickMessageImage } from './message-image.js';
import { checkText, guard } from './policy.js';
import { prepareImages } from './prepare-images.js';
import { startImageJob } from './start-job.js';
import { askImage } from './text-jobs.js';

async function fetchTargetMessage(interaction: ModalSubmitInteraction, messageId: string): Promise<Message> {
  const channel =
    interaction.channel ?? (await interaction.client.channels.fetch(interaction.channelId ?? ''));
  if (!channel?.isTextBased()) throw new UserError('I cannot read that channel any more.');
  return channel.messages.fetch(messageId).catch(() => {
    throw new UserError('I cannot find that message any more (deleted?).');
  });
}

function editJob(
  ctx: BotContext,
  interaction: ModalSubmitInteraction,
  instruction: string,
  images: () => Promise<ImageData[]>,
): Promise<void> {
  const settings = guard(ctx, interaction, 'edit');
  return startImageJob(ctx, interaction, settings, { kind: 'edit', instruction, count: 1 }, images);
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
      return editJob(ctx, interaction, instruction, prepareImages(ctx, interaction, [attachment]));
    }
    case 'edit-job': {
      const instruction = checkText(ctx, text, 'instruction');
      const out = outputAt(loadJob(ctx, id.id), id.index ?? 0);
      return editJob(ctx, interaction, instruction, async () => [out.image]);
    }
    default:
      throw new UserError('That form does not do anything here.');
  }
}
