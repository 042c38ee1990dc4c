/** Option definitions that several slash commands declare the same way. */
import { ApplicationCommandOptionType } from 'discord.js';

/** The required `image` attachment option; only its description differs between commands. */
export const imageOption = (description: string, localized: { de: string; fr: string }) =>
  ({
    name: 'image',
    name_localizations: { de: 'bild', fr: 'image' },
    description,
    description_localizations: localized,
    type: ApplicationCommandOptionType.Attachment,
    required: true,
  }) as const;

export const seedOption = {
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
} as const;
