/** Per-guild settings: what /settings changes and every command consults. Pure. */
import { z } from 'zod';
import { UserError } from '../errors.js';

export const FEATURES = ['imagine', 'caption', 'ask', 'edit', 'blend', 'reveal', 'chat'] as const;
export type Feature = (typeof FEATURES)[number];

const settingsSchema = z.object({
  /** Empty = every channel. */
  allowedChannelIds: z.array(z.string()).default([]),
  disabledFeatures: z.array(z.enum(FEATURES)).default([]),
  defaultCount: z.number().int().min(1).max(4).default(1),
  defaultBlendAmount: z.number().min(0).max(1).default(0.5),
  /** Guild-level caps; the effective cap is the lower of this and the bot-wide one. */
  maxCount: z.number().int().min(1).max(4).default(4),
  maxRunningPerUser: z.number().int().min(1).max(100).optional(),
  maxQueuedPerUser: z.number().int().min(0).max(100).optional(),
});

export type GuildSettings = z.infer<typeof settingsSchema>;

export function defaultGuildSettings(): GuildSettings {
  return settingsSchema.parse({});
}

/** Stored JSON -> settings. Unknown or broken rows fall back to defaults field by field, never throw. */
export function parseStoredSettings(json: string | undefined): GuildSettings {
  if (!json) return defaultGuildSettings();
  try {
    const raw = JSON.parse(json) as Record<string, unknown>;
    const defaults = defaultGuildSettings() as Record<string, unknown>;
    const merged: Record<string, unknown> = {};
    for (const key of Object.keys(defaults)) {
      const single = settingsSchema.shape[key as keyof GuildSettings].safeParse(raw[key]);
      merged[key] = single.success ? single.data : defaults[key];
    }
    return settingsSchema.parse(merged);
  } catch {
    return defaultGuildSettings();
  }
}

export type SettingsChange =
  | { kind: 'allow-channel'; channelId: string }
  | { kind: 'disallow-channel'; channelId: string }
  | { kind: 'all-channels' }
  | { kind: 'feature'; feature: Feature; enabled: boolean }
  | { kind: 'defaults'; count?: number; blendAmount?: number }
  | { kind: 'limits'; maxCount?: number; maxRunningPerUser?: number; maxQueuedPerUser?: number }
  | { kind: 'reset' };

export function applySettingsChange(settings: GuildSettings, change: SettingsChange): GuildSettings {
  const next: GuildSettings = structuredClone(settings);
  switch (change.kind) {
    case 'allow-channel':
      if (!next.allowedChannelIds.includes(change.channelId)) next.allowedChannelIds.push(change.channelId);
      break;
    case 'disallow-channel':
      next.allowedChannelIds = next.allowedChannelIds.filter((c) => c !== change.channelId);
      break;
    case 'all-channels':
      next.allowedChannelIds = [];
      break;
    case 'feature':
      next.disabledFeatures = next.disabledFeatures.filter((f) => f !== change.feature);
      if (!change.enabled) next.disabledFeatures.push(change.feature);
      break;
    case 'defaults':
      if (change.count !== undefined) next.defaultCount = change.count;
      if (change.blendAmount !== undefined) next.defaultBlendAmount = change.blendAmount;
      break;
    case 'limits':
      if (change.maxCount !== undefined) next.maxCount = change.maxCount;
      if (change.maxRunningPerUser !== undefined) next.maxRunningPerUser = change.maxRunningPerUser;
      if (change.maxQueuedPerUser !== undefined) next.maxQueuedPerUser = change.maxQueuedPerUser;
      break;
    case 'reset':
      return defaultGuildSettings();
  }
  const checked = settingsSchema.safeParse(next);
  if (!checked.success)
    throw new UserError(`Invalid setting: ${checked.error.issues[0]?.message ?? 'out of range'}`);
  if (checked.data.defaultCount > checked.data.maxCount)
    throw new UserError(
      `The default count (${checked.data.defaultCount}) cannot exceed the maximum (${checked.data.maxCount}).`,
    );
  return checked.data;
}

/** Throws a UserError when the feature is off or the channel is not allowed in this guild. */
export function assertAllowed(settings: GuildSettings, feature: Feature, channelId: string): void {
  if (settings.disabledFeatures.includes(feature))
    throw new UserError(`\`${feature}\` is turned off on this server.`);
  if (settings.allowedChannelIds.length > 0 && !settings.allowedChannelIds.includes(channelId)) {
    const where = settings.allowedChannelIds.map((c) => `<#${c}>`).join(', ');
    throw new UserError(`I only work in ${where} on this server.`);
  }
}

export function describeSettings(s: GuildSettings): string {
  const channels = s.allowedChannelIds.length ? s.allowedChannelIds.map((c) => `<#${c}>`).join(', ') : 'all';
  const features = FEATURES.map((f) => `${f} ${s.disabledFeatures.includes(f) ? 'off' : 'on'}`).join(', ');
  return [
    `**Channels:** ${channels}`,
    `**Features:** ${features}`,
    `**Defaults:** count ${s.defaultCount}, blend amount ${s.defaultBlendAmount}`,
    `**Limits:** max count ${s.maxCount}, running per user ${s.maxRunningPerUser ?? 'bot default'}, queued per user ${s.maxQueuedPerUser ?? 'bot default'}`,
  ].join('\n');
}
