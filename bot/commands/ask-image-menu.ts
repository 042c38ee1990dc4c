import { ApplicationCommandType, type MessageContextMenuCommandInteraction } from 'discord.js';
import { askQuestionModal } from '../components/modals.js';
import type { BotContext } from '../context.js';
import { openImageModal } from '../interactions/open-image-modal.js';

export const data = {
  name: 'Ask about image…',
  name_localizations: { de: 'Frage zum Bild…', fr: 'Question sur l’image…' },
  type: ApplicationCommandType.Message,
} as const;

export async function execute(
  interaction: MessageContextMenuCommandInteraction,
  ctx: BotContext,
): Promise<void> {
  await openImageModal(ctx, interaction, 'ask', 'ask-msg', askQuestionModal);
}
