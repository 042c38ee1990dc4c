import type { ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../context.js';
import { toAttachmentInfo } from '../interactions/policy.js';
import { captionImage } from '../interactions/text-jobs.js';
import { imageOption } from './common-options.js';
import { readOptions } from './read-options.js';

export const data = {
  name: 'caption',
  name_localizations: { de: 'beschreiben', fr: 'legende' },
  description: 'Describe an image in words',
  description_localizations: { de: 'Ein Bild in Worten beschreiben', fr: 'Décrire une image avec des mots' },
  options: [
    imageOption('The image to describe', { de: 'Das zu beschreibende Bild', fr: 'L’image à décrire' }),
  ],
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const options = readOptions(interaction, data);
  await captionImage(ctx, interaction, toAttachmentInfo(options.image));
}
