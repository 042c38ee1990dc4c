import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../context.js';
import { checkText, guard, toAttachmentInfo } from '../interactions/policy.js';
import { prepareImages } from '../interactions/prepare-images.js';
import { startImageJob } from '../interactions/start-job.js';
import { imageOption, seedOption } from './common-options.js';
import { readOptions } from './read-options.js';

export const data = {
  name: 'edit',
  name_localizations: { de: 'bearbeiten', fr: 'modifier' },
  description: 'Edit an image with an instruction',
  description_localizations: {
    de: 'Ein Bild nach Anweisung bearbeiten',
    fr: 'Modifier une image selon une consigne',
  },
  options: [
    imageOption('The image to edit', { de: 'Das zu bearbeitende Bild', fr: 'L’image à modifier' }),
    {
      name: 'instruction',
      name_localizations: { de: 'anweisung', fr: 'consigne' },
      description: 'What to change, e.g. "make the square green"',
      description_localizations: { de: 'Was geändert werden soll', fr: 'Ce qu’il faut changer' },
      type: ApplicationCommandOptionType.String,
      required: true,
      max_length: 1000,
    },
    seedOption,
  ],
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const options = readOptions(interaction, data);
  const settings = guard(ctx, interaction, 'edit');
  const instruction = checkText(ctx, options.instruction, 'instruction');
  const images = prepareImages(ctx, interaction, [toAttachmentInfo(options.image)]);
  const seed = options.seed?.toString();
  await startImageJob(ctx, interaction, settings, { kind: 'edit', instruction, count: 1, seed }, images);
}
