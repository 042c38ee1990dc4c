import {
  ApplicationCommandOptionType,
  type ChatInputCommandInteraction,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
} from 'discord.js';
import type { BotContext } from '../context.js';
import { UserError } from '../errors.js';
import {
  applySettingsChange,
  describeSettings,
  FEATURES,
  type Feature,
  type SettingsChange,
} from '../settings/guild-settings.js';
import { readOptions } from './read-options.js';

const sub = ApplicationCommandOptionType.Subcommand;

const channelSub = {
  name: 'channel',
  name_localizations: { de: 'kanal', fr: 'salon' },
  description: 'Allow or disallow a channel (no allowed channels = all)',
  description_localizations: { de: 'Kanal erlauben oder sperren', fr: 'Autoriser ou interdire un salon' },
  type: sub,
  options: [
    {
      name: 'action',
      description: 'allow, disallow, or allow all channels',
      type: ApplicationCommandOptionType.String,
      required: true,
      choices: [
        { name: 'allow', value: 'allow' },
        { name: 'disallow', value: 'disallow' },
        { name: 'all channels', value: 'all' },
      ],
    },
    { name: 'channel', description: 'The channel', type: ApplicationCommandOptionType.Channel },
  ],
} as const;

const featureSub = {
  name: 'feature',
  name_localizations: { de: 'funktion', fr: 'fonction' },
  description: 'Turn a feature on or off',
  description_localizations: {
    de: 'Funktion ein- oder ausschalten',
    fr: 'Activer ou désactiver une fonction',
  },
  type: sub,
  options: [
    {
      name: 'feature',
      description: 'Which feature',
      type: ApplicationCommandOptionType.String,
      required: true,
      choices: FEATURES.map((f) => ({ name: f, value: f })),
    },
    { name: 'enabled', description: 'On or off', type: ApplicationCommandOptionType.Boolean, required: true },
  ],
} as const;

const defaultsSub = {
  name: 'defaults',
  name_localizations: { de: 'standardwerte', fr: 'defauts' },
  description: 'Default image count and blend amount',
  description_localizations: {
    de: 'Standardanzahl und Mischanteil',
    fr: 'Nombre d’images et mélange par défaut',
  },
  type: sub,
  options: [
    {
      name: 'count',
      description: 'Images per /imagine',
      type: ApplicationCommandOptionType.Integer,
      min_value: 1,
      max_value: 4,
    },
    {
      name: 'blend_amount',
      description: 'Default /blend amount',
      type: ApplicationCommandOptionType.Number,
      min_value: 0,
      max_value: 1,
    },
  ],
} as const;

const limitsSub = {
  name: 'limits',
  name_localizations: { de: 'grenzen', fr: 'limites' },
  description: 'Per-job and per-user limits (cannot exceed the bot-wide ones)',
  description_localizations: {
    de: 'Grenzen pro Auftrag und Person',
    fr: 'Limites par tâche et par personne',
  },
  type: sub,
  options: [
    {
      name: 'max_count',
      description: 'Most images per job',
      type: ApplicationCommandOptionType.Integer,
      min_value: 1,
      max_value: 4,
    },
    {
      name: 'running',
      description: 'Running jobs per user',
      type: ApplicationCommandOptionType.Integer,
      min_value: 1,
      max_value: 100,
    },
    {
      name: 'queued',
      description: 'Waiting jobs per user',
      type: ApplicationCommandOptionType.Integer,
      min_value: 0,
      max_value: 100,
    },
  ],
} as const;

const showSub = {
  name: 'show',
  name_localizations: { de: 'anzeigen', fr: 'afficher' },
  description: 'Show this server’s settings',
  description_localizations: { de: 'Einstellungen anzeigen', fr: 'Afficher les réglages' },
  type: sub,
  options: [],
} as const;

const resetSub = {
  name: 'reset',
  name_localizations: { de: 'zuruecksetzen', fr: 'reinitialiser' },
  description: 'Back to defaults',
  description_localizations: { de: 'Auf Standard zurücksetzen', fr: 'Revenir aux valeurs par défaut' },
  type: sub,
  options: [],
} as const;

export const data = {
  name: 'settings',
  name_localizations: { de: 'einstellungen', fr: 'reglages' },
  description: 'Configure the bot on this server (Manage Server)',
  description_localizations: {
    de: 'Den Bot auf diesem Server einrichten',
    fr: 'Configurer le bot sur ce serveur',
  },
  // Discord hides the command from members without Manage Server unless an admin grants it.
  default_member_permissions: String(PermissionFlagsBits.ManageGuild),
  contexts: [InteractionContextType.Guild],
  options: [showSub, channelSub, featureSub, defaultsSub, limitsSub, resetSub],
} as const;

/** Subcommand + its options -> a settings change (undefined for "show"). */
export function parseSettingsChange(interaction: ChatInputCommandInteraction): SettingsChange | undefined {
  switch (interaction.options.getSubcommand()) {
    case 'show':
      return undefined;
    case 'channel': {
      const o = readOptions(interaction, channelSub);
      if (o.action === 'all') return { kind: 'all-channels' };
      const channelId = o.channel ?? interaction.channelId;
      return o.action === 'allow'
        ? { kind: 'allow-channel', channelId }
        : { kind: 'disallow-channel', channelId };
    }
    case 'feature': {
      const o = readOptions(interaction, featureSub);
      return { kind: 'feature', feature: o.feature as Feature, enabled: o.enabled };
    }
    case 'defaults': {
      const o = readOptions(interaction, defaultsSub);
      return { kind: 'defaults', count: o.count, blendAmount: o.blend_amount };
    }
    case 'limits': {
      const o = readOptions(interaction, limitsSub);
      return {
        kind: 'limits',
        maxCount: o.max_count,
        maxRunningPerUser: o.running,
        maxQueuedPerUser: o.queued,
      };
    }
    case 'reset':
      return { kind: 'reset' };
    default:
      throw new UserError('Unknown settings command. Please update the bot’s commands.');
  }
}

export async function execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
  // Admins can grant the command to anyone; Manage Server is still the rule we promise, so check it.
  if (!interaction.inGuild() || !interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
    throw new UserError('Only members with Manage Server can change the bot’s settings.');
  }
  const change = parseSettingsChange(interaction);
  let settings = ctx.store.getGuildSettings(interaction.guildId);
  if (change) {
    settings = applySettingsChange(settings, change);
    ctx.store.saveGuildSettings(interaction.guildId, settings);
    ctx.logger.info('settings changed', {
      guildId: interaction.guildId,
      userId: interaction.user.id,
      change,
    });
  }
  await interaction.reply({
    content: `${change ? 'Saved.\n' : ''}${describeSettings(settings)}`,
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
  });
}
