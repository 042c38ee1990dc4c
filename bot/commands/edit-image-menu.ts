import { ApplicationCommandType, type MessageContextMenuCommandInteraction } from 'discord.js';
import { encodeCustomId } from '../components/custom-id.js';
import { textModal } from '../components/modals.js';
import type { BotContext } from '../context.js';
import { pickMessageImage } from '../interactions/message-image.js';
import { guard, precheckAttachments } from '../interactions/policy.js';

export const data = {
  name: 'Edit image…',
  name_localizations: { de: 'Bild bearbeiten…', fr: 'Modifier l’image…' },
  type: ApplicationCommandType.Message,
} as const;

export async function execute(
  interaction: MessageContextMenuCommandInteraction,
  ctx: BotContext,
): Promise<void> {
  guard(ctx, interaction, 'edit');
  precheckAttachments(ctx, [pickMessageImage(interaction.targetMessage)], interaction.attachmentSizeLimit);
  const customId = encodeCustomId({ action: 'edit-msg', id: interaction.targetId });
  await interaction.showModal(textModal(customId, 'Edit this image', 'Instruction', 'Make the square green'));
}
