import { ApplicationCommandType, type MessageContextMenuCommandInteraction } from 'discord.js';
import { encodeCustomId } from '../components/custom-id.js';
import { textModal } from '../components/modals.js';
import type { BotContext } from '../context.js';
import { pickMessageImage } from '../interactions/message-image.js';
import { guard, precheckAttachments } from '../interactions/policy.js';

export const data = {
  name: 'Ask about image…',
  name_localizations: { de: 'Frage zum Bild…', fr: 'Question sur l’image…' },
  type: ApplicationCommandType.Message,
} as const;

export async function execute(
  interaction: MessageContextMenuCommandInteraction,
  ctx: BotContext,
): Promise<void> {
  guard(ctx, interaction, 'ask');
  // Refuse a non-image before the person types a question.
  precheckAttachments(ctx, [pickMessageImage(interaction.targetMessage)], interaction.attachmentSizeLimit);
  // The modal's custom_id carries the target message id; the submit handler fetches the image from it.
  const customId = encodeCustomId({ action: 'ask-msg', id: interaction.targetId });
  await interaction.showModal(
    textModal(customId, 'Ask about this image', 'Question', 'What colour is the circle?'),
  );
}
