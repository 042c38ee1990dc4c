/** Sends a text answer to a deferred interaction, split over several messages when long. */
import type { RepliableInteraction } from 'discord.js';
import { splitMessage } from '../text/split-message.js';
import { NO_PINGS } from './views.js';

export async function replyText(
  interaction: RepliableInteraction,
  text: string,
  ephemeral = false,
): Promise<void> {
  const [first, ...rest] = splitMessage(text);
  await interaction.editReply({
    content: first ?? '',
    allowedMentions: NO_PINGS,
    components: [],
    attachments: [],
  });
  for (const chunk of rest) {
    await interaction.followUp({
      content: chunk,
      allowedMentions: NO_PINGS,
      ...(ephemeral ? { flags: 64 } : {}),
    });
  }
}
