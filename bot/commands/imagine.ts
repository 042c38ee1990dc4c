import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext } from '../context.js';
import { checkText, guard, resolveCount } from '../interactions/policy.js';
import { startImageJob } from '../interactions/start-job.js';
import { seedOption } from './common-options.js';
import { readOptions } from './read-options.js';

export const data = {
  name: 'imagine',
  name_localizations: { de: 'erschaffen', fr: 'imaginer' },
  description: 'Create images from a text prompt',
  description_localizations: {
    de: 'Bilder aus einer Textbeschreibung erzeugen',
    fr: 'Créer des images à partir d’un texte',
  },
  options: [
    {
      name: 'prompt',
      name_localizations: { de: 'beschreibung', fr: 'description' },
      description: 'What to draw, e.g. "a red circle above a blue square"',
      description_localizations: { de: 'Was gezeichnet werden soll', fr: 'Ce qu’il faut dessiner' },
      type: ApplicationCommandOptionType.String,
      required: true,
      max_length: 1000,
    },
    {
      name: 'count',
      name_localizations: { de: 'anzahl', fr: 'nombre' },
      description: 'How many images (1-4)',
      description_localizations: { de: 'Wie viele Bilder (1-4)', fr: 'Combien d’images (1-4)' },
      type: ApplicationCommandOptionType.Integer,
      min_value: 1,
      max_value: 4,
    },
    seedOption,
  ],
} as const;

export async function execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  const options = readOptions(interaction, data);
  const settings = guard(ctx, interaction, 'imagine');
  const prompt = checkText(ctx, options.prompt);
  const count = resolveCount(ctx, settings, options.count);
  const seed = options.seed?.toString();
  await startImageJob(ctx, interaction, settings, { kind: 'imagine', prompt, count, seed });
}
