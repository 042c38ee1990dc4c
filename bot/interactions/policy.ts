/** Settings, limits and checks every entry point applies before it acknowledges and works. */
import type { AttachmentInfo, AttachmentLimits } from '../attachments/check-attachment.js';
import { checkAttachment } from '../attachments/check-attachment.js';
import { readAttachmentImage } from '../attachments/read-attachment.js';
import type { BotContext } from '../context.js';
import { UserError } from '../errors.js';
import type { ImageData } from '../inference/client.js';
import type { JobRunnerDeps } from '../jobs/run-image-job.js';
import type { Ticket, UserLimits } from '../jobs/user-limiter.js';
import { checkPrompt } from '../prompts/check-prompt.js';
import { assertAllowed, type Feature, type GuildSettings } from '../settings/guild-settings.js';

export interface Where {
  guildId: string | null;
  channelId: string | null;
}

/** The guild's settings, after checking that the feature is on and the channel allowed. */
export function guard(ctx: BotContext, where: Where, feature: Feature): GuildSettings {
  const settings = ctx.store.getGuildSettings(where.guildId);
  if (where.guildId) assertAllowed(settings, feature, where.channelId ?? '');
  return settings;
}

export function userLimits(ctx: BotContext, settings: GuildSettings): UserLimits {
  return {
    maxRunning: Math.min(
      ctx.config.limits.maxRunningPerUser,
      settings.maxRunningPerUser ?? Number.POSITIVE_INFINITY,
    ),
    maxQueued: Math.min(
      ctx.config.limits.maxQueuedPerUser,
      settings.maxQueuedPerUser ?? Number.POSITIVE_INFINITY,
    ),
  };
}

export function acquireTicket(ctx: BotContext, userId: string, settings: GuildSettings): Ticket {
  return ctx.limiter.acquire(userId, userLimits(ctx, settings));
}

export function checkText(ctx: BotContext, text: string, what = 'prompt'): string {
  const server = ctx.serverLimits.current().maxPromptChars;
  const maxChars =
    server > 0 ? Math.min(server, ctx.config.limits.maxPromptChars) : ctx.config.limits.maxPromptChars;
  return checkPrompt(text, { maxChars, blocked: ctx.blocklist }, what);
}

/** Requested image count, or the guild default; never above the guild's or the bot's cap. */
export function resolveCount(
  ctx: BotContext,
  settings: GuildSettings,
  requested: number | undefined,
): number {
  const max = Math.min(settings.maxCount, ctx.config.limits.maxImagesPerJob);
  const count = requested ?? Math.min(settings.defaultCount, max);
  if (count > max) throw new UserError(`At most ${max} image(s) per job here.`);
  return count;
}

export function attachmentLimits(ctx: BotContext, interactionLimit?: number | null): AttachmentLimits {
  const server = ctx.serverLimits.current();
  return {
    allowedHosts: ctx.config.attachments.allowedHosts,
    maxPixels:
      server.maxImagePixels > 0
        ? Math.min(server.maxImagePixels, ctx.config.attachments.maxPixels)
        : ctx.config.attachments.maxPixels,
    byteLimits: {
      bot: ctx.config.attachments.maxBytes,
      interaction: interactionLimit,
      server: server.maxImageBytes,
    },
  };
}

/** Metadata checks only (no download): fast enough to run before acknowledging. */
export function precheckAttachments(
  ctx: BotContext,
  atts: AttachmentInfo[],
  interactionLimit?: number | null,
): void {
  const limits = attachmentLimits(ctx, interactionLimit);
  for (const att of atts) checkAttachment(att, limits);
}

export function readImages(
  ctx: BotContext,
  atts: AttachmentInfo[],
  interactionLimit?: number | null,
): Promise<ImageData[]> {
  const limits = attachmentLimits(ctx, interactionLimit);
  return Promise.all(
    atts.map((att) =>
      readAttachmentImage(att, {
        limits,
        timeoutMs: ctx.config.attachments.timeoutMs,
        fetch: ctx.fetch,
        signal: ctx.shutdown,
      }),
    ),
  );
}

export function jobDeps(ctx: BotContext): JobRunnerDeps {
  return {
    inference: ctx.inference,
    store: ctx.store,
    logger: ctx.logger,
    upscaleSize: ctx.config.jobs.upscaleSize,
    progressIntervalMs: ctx.config.jobs.progressIntervalMs,
    streamTimeoutMs: ctx.config.inference.streamTimeoutMs,
    now: ctx.now,
  };
}

/** Releases the ticket if `work` throws before the job runner took ownership of it. */
export async function holdingTicket<T>(ticket: Ticket, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    ticket.release();
    throw err;
  }
}

export function toAttachmentInfo(a: {
  name: string;
  url: string;
  contentType: string | null;
  size: number;
  width: number | null;
  height: number | null;
}): AttachmentInfo {
  return {
    name: a.name,
    url: a.url,
    contentType: a.contentType,
    size: a.size,
    width: a.width,
    height: a.height,
  };
}
