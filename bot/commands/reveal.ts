import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../context.js';
import {
  acquireTicket,
  guard,
  holdingTicket,
  precheckAttachments,
  readImages,
  toAttachmentInfo,
} from '../interactions/policy.js';
import { createJobFor, runJobInReply } from '../interactions/start-job.js';
import { readOptions } from './read-options.js';

export const data = {
  name: 'reveal',
  name_localizations: { de: 'enthuellen', fr: 'reveler' },
  description: 'Animate an image being decoded from more and more of its tokens',
  description_localizations: {
    de: 'Zeigt, wie ein Bild aus immer mehr Tokens entsteht',
    fr: 'Montre une image décodée à partir de plus en plus de jetons',
  },
  options: [
    {
      name: 'image',
      name_localizations: { de: 'bild', fr: 'image' },
      description: 'The image to reveal',
      description_localizations: { de: 'Das Bild', fr: 'L’image' },
      type: ApplicationCommandOptionType.Attachment,
      required: true,
    },
  ],
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const options = readOptions(interaction, data);
  const settings = guard(ctx, interaction, 'reveal');
  const attachment = toAttachmentInfo(options.image);
  precheckAttachments(ctx, [attachment], interaction.attachmentSizeLimit);
  const ticket = acquireTicket(ctx, interaction.user.id, settings);
  const job = await holdingTicket(ticket, async () => {
    await interaction.deferReply();
    const images = await readImages(ctx, [attachment], interaction.attachmentSizeLimit);
    return createJobFor(ctx, interaction, { kind: 'reveal' }, images);
  });
  await runJobInReply(ctx, interaction, job, ticket);
}
