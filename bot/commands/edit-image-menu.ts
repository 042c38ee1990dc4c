import { ApplicationCommandType, type MessageContextMenuCommandInteraction } from 'discord.js';
import { editInstructionModal } from '../components/modals.js';
import type { BotContext } from '../context.js';
import { openImageModal } from '../interactions/open-image-modal.js';

export const data = {
  name: 'Edit image…',
  name_localizations: { de: 'Bild bearbeiten…', fr: 'Modifier l’image…' },
  type: ApplicationCommandType.Message,
} as const;

export async function execute(
  interaction: MessageContextMenuCommandInteraction,
  ctx: BotContext,
): Promise<void> {
  await openImageModal(ctx, interaction, 'edit', 'edit-msg', editInstructionModal);
}
