/** Buttons under job results. The custom_id holds a job id; everything else comes from the store. */
import { type ButtonInteraction, MessageFlags } from 'discord.js';
import { decodeCustomId, encodeCustomId } from '../components/custom-id.js';
import { editInstructionModal } from '../components/modals.js';
import type { BotContext } from '../context.js';
import { UserError } from '../errors.js';
import type { ImageData } from '../inference/client.js';
import type { Feature } from '../settings/guild-settings.js';
import type { JobKind, JobParams, JobRecord, StoredOutput } from '../store/job-store.js';
import { acquireTicket, guard, holdingTicket } from './policy.js';
import { runJobInReply, startImageJob } from './start-job.js';

const FEATURE_OF: Record<JobKind, Feature> = {
  imagine: 'imagine',
  edit: 'edit',
  blend: 'blend',
  reveal: 'reveal',
  variation: 'imagine',
  chat: 'chat',
};

export function loadJob(ctx: BotContext, jobId: string): JobRecord {
  const job = ctx.store.getJob(jobId);
  if (!job) {
    throw new UserError(
      `That job is no longer stored (results are kept ${ctx.config.store.retentionDays} days). Please run the command again.`,
    );
  }
  return job;
}

export function outputAt(job: JobRecord, index: number): StoredOutput {
  const output = job.outputs[index];
  if (!output) throw new UserError('That image is not available any more. Please run the command again.');
  return output;
}

/**
 * Temperature of a re-roll. The bundled model's default is greedy (its most accurate setting), so a new seed
 * alone would only change the decoder's noise (REROLL_STEPS): a near-identical picture. At this temperature a
 * planned Generate also samples its layout from the seed (docs/model-package.md, "Plans"): 10 prompts x 8
 * seeds gave 70 distinct pictures, 0.825 of them right, against 28 and 0.813 with the layout greedy
 * (session 23; greedy everything: 17 and 0.800).
 */
export const REROLL_TEMPERATURE = 0.7;

/** Decoder steps of a variation: one step decodes the missing fine codes to one likely completion, more vary. */
export const VARIATION_STEPS = 10;

/**
 * Decoder steps of a re-roll: the sampler, whose noise comes from the seed. A package that decodes with its
 * one-step renderer by default (the bundled one since session 22) draws the same picture from the same tokens
 * whatever the seed, and the reranking often picks the same tokens for a new seed; one sampler step decodes as
 * well (held-out reconstruction 0.936 against the renderer's 0.944, model card) and varies with the seed.
 */
export const REROLL_STEPS = 1;

/** The same parameters with the seed dropped (the server picks and reports a new one) and tokens sampled. */
export function rerollParams(params: JobParams): JobParams {
  const { seed: _seed, ...rest } = params as JobParams & { seed?: string };
  if (rest.kind === 'imagine' || rest.kind === 'edit')
    return {
      ...rest,
      temperature: rest.temperature ?? REROLL_TEMPERATURE,
      steps: rest.steps ?? REROLL_STEPS,
    };
  return rest as JobParams;
}

/** How many of the coarsest tokens a variation keeps: half, so layout and colours stay, details change. */
export function variationKeep(tokenCount: number): number {
  return Math.max(1, Math.floor(tokenCount / 2));
}

async function startNewJob(
  ctx: BotContext,
  interaction: ButtonInteraction,
  feature: Feature,
  params: JobParams,
  inputs: ImageData[],
): Promise<void> {
  await startImageJob(ctx, interaction, guard(ctx, interaction, feature), params, async () => inputs);
}

export async function handleButton(interaction: ButtonInteraction, ctx: BotContext): Promise<void> {
  const id = decodeCustomId(interaction.customId);
  if (!id)
    throw new UserError('This button is from an older version of the bot. Please run the command again.');
  const job = loadJob(ctx, id.id);
  const index = id.index ?? 0;
  switch (id.action) {
    case 'reroll':
      return startNewJob(ctx, interaction, FEATURE_OF[job.params.kind], rerollParams(job.params), job.inputs);
    case 'retry': {
      const settings = guard(ctx, interaction, FEATURE_OF[job.params.kind]);
      const ticket = acquireTicket(ctx, interaction.user.id, settings);
      await holdingTicket(ticket, async () => {
        await interaction.deferReply();
        await ctx.acks.afterAcks();
      });
      return runJobInReply(ctx, interaction, job, ticket);
    }
    case 'edit': {
      guard(ctx, interaction, 'edit');
      outputAt(job, index);
      const customId = encodeCustomId({ action: 'edit-job', id: job.id, index });
      return interaction.showModal(editInstructionModal(customId));
    }
    case 'reveal': {
      const out = outputAt(job, index);
      const params: JobParams =
        out.tokens.length > 0 ? { kind: 'reveal', tokens: out.tokens } : { kind: 'reveal' };
      return startNewJob(ctx, interaction, 'reveal', params, out.tokens.length > 0 ? [] : [out.image]);
    }
    case 'vary': {
      const out = outputAt(job, index);
      if (out.tokens.length === 0)
        throw new UserError('Variations need the image’s tokens, which this job does not have.');
      const params: JobParams = {
        kind: 'variation',
        tokens: out.tokens,
        keep: variationKeep(out.tokens.length),
        steps: VARIATION_STEPS,
      };
      return startNewJob(ctx, interaction, 'imagine', params, []);
    }
    case 'blend':
      return pickBlendInput(ctx, interaction, job, index);
    default:
      throw new UserError('That button does not do anything here.');
  }
}

/** First press remembers image A; a press on another image blends A with it. */
async function pickBlendInput(
  ctx: BotContext,
  interaction: ButtonInteraction,
  job: JobRecord,
  index: number,
) {
  const settings = guard(ctx, interaction, 'blend');
  const b = outputAt(job, index);
  const pick = ctx.store.takeBlendPick(interaction.user.id);
  const a = pick && ctx.store.getJob(pick.jobId)?.outputs[pick.index];
  if (!pick || !a || (pick.jobId === job.id && pick.index === index)) {
    ctx.store.setBlendPick(interaction.user.id, job.id, index);
    await interaction.reply({
      content: 'Saved as blend input A. Now press **Use as blend input** under another image to blend them.',
      flags: MessageFlags.Ephemeral,
    });
    return;
  }
  await startNewJob(ctx, interaction, 'blend', { kind: 'blend', amount: settings.defaultBlendAmount }, [
    a.image,
    b.image,
  ]);
}
