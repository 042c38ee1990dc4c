/** Creates a job record and runs it in the interaction's reply. */
import type { RepliableInteraction } from 'discord.js';
import type { BotContext } from '../context.js';
import type { ImageData } from '../inference/client.js';
import { runImageJob } from '../jobs/run-image-job.js';
import type { Ticket } from '../jobs/user-limiter.js';
import type { GuildSettings } from '../settings/guild-settings.js';
import type { JobParams, JobRecord } from '../store/job-store.js';
import { acquireTicket, holdingTicket, jobDeps } from './policy.js';
import { interactionView } from './views.js';

export function createJobFor(
  ctx: BotContext,
  interaction: RepliableInteraction,
  params: JobParams,
  inputs: ImageData[] = [],
): JobRecord {
  return ctx.store.createJob({
    userId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId ?? '',
    params,
    inputs,
  });
}

/** The interaction must already be deferred. Owns (and releases) the ticket. */
export async function runJobInReply(
  ctx: BotContext,
  interaction: RepliableInteraction,
  job: JobRecord,
  ticket: Ticket,
): Promise<void> {
  const view = interactionView(interaction, {
    tokenLifetimeMs: ctx.config.jobs.interactionTokenLifetimeMs,
    now: ctx.now,
    logger: ctx.logger,
    onMessage: (channelId, messageId) => ctx.store.setMessage(job.id, channelId, messageId),
  });
  await runImageJob(jobDeps(ctx), job, view, ticket, ctx.shutdown);
}

/**
 * Takes the user's ticket, acknowledges, loads the inputs, creates the job and runs it in the reply.
 * Checks that can refuse the request belong before this call, so they answer before acknowledging;
 * anything slow belongs after the acknowledgement.
 */
export async function startImageJob(
  ctx: BotContext,
  interaction: RepliableInteraction,
  settings: GuildSettings,
  params: JobParams,
  loadInputs: () => Promise<ImageData[]> = async () => [],
): Promise<void> {
  const ticket = acquireTicket(ctx, interaction.user.id, settings);
  const job = await holdingTicket(ticket, async () => {
    await interaction.deferReply();
    // Acknowledged: the rest can wait until other interactions of a burst are acknowledged too.
    await ctx.acks.afterAcks();
    return createJobFor(ctx, interaction, params, await loadInputs());
  });
  await runJobInReply(ctx, interaction, job, ticket);
}
