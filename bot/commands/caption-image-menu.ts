import { ApplicationCommandType, type MessageContextMenuCommandInteraction } from 'discord.js';
import type { BotContext } from '../context.js';
import { pickMessageImage } from '../interactions/message-image.js';
import { captionImage } from '../interactions/text-jobs.js';

export const data = {
  name: 'Caption image',
  name_localizations: { de: 'Bild beschreiben', fr: 'Décrire l’image' },
  type: ApplicationCommandType.Message,
} as const;

export async function execute(
  interaction: MessageContextMenuCommandInteraction,
  ctx: BotContext,
): Promise<void> {
  await captionImage(ctx, interaction, pickMessageImage(interaction.targetMessage));
}
