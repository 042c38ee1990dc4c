import { type ChatInputCommandInteraction, MessageFlags } from 'discord.js';
import type { BotContext } from '../context.js';

export const data = {
  name: 'help',
  name_localizations: { de: 'hilfe', fr: 'aide' },
  description: 'What this bot can do',
  description_localizations: { de: 'Was dieser Bot kann', fr: 'Ce que ce bot sait faire' },
  options: [],
} as const;

export const HELP_TEXT = [
  '**Images**',
  '`/imagine prompt [count] [seed]`: draw from a prompt, e.g. "a red circle above a blue square".',
  '`/edit image instruction`: change an image, e.g. "make the square green".',
  '`/blend image_a image_b [amount]`: the layout of A with the details of B.',
  '`/reveal image`: watch an image decode from its coarsest tokens to all of them.',
  'Buttons under results: Re-roll (new seed), Edit, Reveal, Variations, Use as blend input.',
  '**Questions**',
  '`/caption image`, `/ask image question`, or right-click a message with an image → Apps.',
  '**Chat**',
  'Mention me, DM me or reply to me. The reply chain is the conversation, images included.',
  'Reply "now make the square green" to one of my images to edit it, "how many circles are there?" to ask about it, "what is in the image" for its caption; "draw two red circles" draws as /imagine does.',
  '-# Images are 32×32 pixels, shown enlarged. Admins: `/settings`.',
].join('\n');

export async function execute(interaction: ChatInputCommandInteraction, _ctx: BotContext): Promise<void> {
  await interaction.reply({
    content: HELP_TEXT,
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}
