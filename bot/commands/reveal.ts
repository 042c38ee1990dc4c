import type { ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../context.js';
import { guard, toAttachmentInfo } from '../interactions/policy.js';
import { prepareImages } from '../interactions/prepare-images.js';
import { startImageJob } from '../interactions/start-job.js';
import { imageOption } from './common-options.js';
import { readOptions } from './read-options.js';

export const data = {
  name: 'reveal',
  name_localizations: { de: 'enthuellen', fr: 'reveler' },
  description: 'Animate an image being decoded from more and more of its tokens',
  description_localizations: {
    de: 'Zeigt, wie ein Bild aus immer mehr Tokens entsteht',
    fr: 'Montre une image décodée à partir de plus en plus de jetons',
  },
  options: [imageOption('The image to reveal', { de: 'Das Bild', fr: 'L’image' })],
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const options = readOptions(interaction, data);
  const settings = guard(ctx, interaction, 'reveal');
  const images = prepareImages(ctx, interaction, [toAttachmentInfo(options.image)]);
  await startImageJob(ctx, interaction, settings, { kind: 'reveal' }, images);
}
