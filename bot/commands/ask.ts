import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../context.js';
import { checkText, toAttachmentInfo } from '../interactions/policy.js';
import { askImage } from '../interactions/text-jobs.js';
import { imageOption } from './common-options.js';
import { readOptions } from './read-options.js';

export const data = {
  name: 'ask',
  name_localizations: { de: 'fragen', fr: 'demander' },
  description: 'Ask a question about an image',
  description_localizations: {
    de: 'Eine Frage zu einem Bild stellen',
    fr: 'Poser une question sur une image',
  },
  options: [
    imageOption('The image', { de: 'Das Bild', fr: 'L’image' }),
    {
      name: 'question',
      name_localizations: { de: 'frage', fr: 'question' },
      description: 'e.g. "what colour is the circle?"',
      description_localizations: {
        de: 'z. B. „Welche Farbe hat der Kreis?“',
        fr: 'p. ex. « de quelle couleur est le cercle ? »',
      },
      type: ApplicationCommandOptionType.String,
      required: true,
      max_length: 1000,
    },
  ],
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const options = readOptions(interaction, data);
  const question = checkText(ctx, options.question, 'question');
  await askImage(ctx, interaction, toAttachmentInfo(options.image), question);
}
