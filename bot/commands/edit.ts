import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../context.js';
import {
  acquireTicket,
  checkText,
  guard,
  holdingTicket,
  precheckAttachments,
  readImages,
  toAttachmentInfo,
} from '../interactions/policy.js';
import { createJobFor, runJobInReply } from '../interactions/start-job.js';
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
    {
      name: 'image',
      name_localizations: { de: 'bild', fr: 'image' },
      description: 'The image to edit',
      description_localizations: { de: 'Das zu bearbeitende Bild', fr: 'L’image à modifier' },
      type: ApplicationCommandOptionType.Attachment,
      required: true,
    },
    {
      name: 'instruction',
      name_localizations: { de: 'anweisung', fr: 'consigne' },
      description: 'What to change, e.g. "make the square green"',
      description_localizations: { de: 'Was geändert werden soll', fr: 'Ce qu’il faut changer' },
      type: ApplicationCommandOptionType.String,
      required: true,
      max_length: 1000,
    },
    {
      name: 'seed',
      name_localizations: { de: 'seed', fr: 'graine' },
      description: 'Seed for reproducible results',
      description_localizations: {
        de: 'Startwert für wiederholbare Ergebnisse',
        fr: 'Graine pour des résultats reproductibles',
      },
      type: ApplicationCommandOptionType.Integer,
      min_value: 0,
      max_value: Number.MAX_SAFE_INTEGER,
    },
  ],
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const options = readOptions(interaction, data);
  const settings = guard(ctx, interaction, 'edit');
  const instruction = checkText(ctx, options.instruction, 'instruction');
  const attachment = toAttachmentInfo(options.image);
  precheckAttachments(ctx, [attachment], interaction.attachmentSizeLimit);
  const ticket = acquireTicket(ctx, interaction.user.id, settings);
  const job = await holdingTicket(ticket, async () => {
    await interaction.deferReply();
    const images = await readImages(ctx, [attachment], interaction.attachmentSizeLimit);
    const seed = options.seed?.toString();
    return createJobFor(ctx, interaction, { kind: 'edit', instruction, count: 1, seed }, images);
  });
  await runJobInReply(ctx, interaction, job, ticket);
}
