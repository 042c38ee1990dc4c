import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../context.js';
import { guard, toAttachmentInfo } from '../interactions/policy.js';
import { prepareImages } from '../interactions/prepare-images.js';
import { startImageJob } from '../interactions/start-job.js';
import { readOptions } from './read-options.js';

const image = <N extends string>(name: N, de: string, fr: string, description: string) =>
  ({
    name,
    name_localizations: { de, fr },
    description,
    type: ApplicationCommandOptionType.Attachment,
    required: true,
  }) as const;

export const data = {
  name: 'blend',
  name_localizations: { de: 'mischen', fr: 'melanger' },
  description: 'Mix two images: the layout of one with details of the other',
  description_localizations: { de: 'Zwei Bilder mischen', fr: 'Mélanger deux images' },
  options: [
    image('image_a', 'bild_a', 'image_a', 'The base image'),
    image('image_b', 'bild_b', 'image_b', 'The image to take tokens from'),
    {
      name: 'amount',
      name_localizations: { de: 'anteil', fr: 'quantite' },
      description: 'How much of image B, 0-1 (coarsest tokens first)',
      description_localizations: { de: 'Anteil von Bild B, 0-1', fr: 'Part de l’image B, 0-1' },
      type: ApplicationCommandOptionType.Number,
      min_value: 0,
      max_value: 1,
    },
  ],
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const options = readOptions(interaction, data);
  const settings = guard(ctx, interaction, 'blend');
  const attachments = [toAttachmentInfo(options.image_a), toAttachmentInfo(options.image_b)];
  const images = prepareImages(ctx, interaction, attachments);
  const amount = options.amount ?? settings.defaultBlendAmount;
  await startImageJob(ctx, interaction, settings, { kind: 'blend', amount }, images);
}
