/**
 * Drives one image job into its message: (waiting for the user's earlier jobs) -> queued with
 * position -> throttled progress with previews -> final upscaled images with buttons. Failures
 * end as one short message (with "Try again" when the job can simply be rerun) and a log line.
 */

import { buildRetryButton } from '../components/result-buttons.js';
import { describeError, isExpectedError } from '../errors.js';
import type { InferenceClient } from '../inference/client.js';
import { type GeneratedImage, type ImageData, InferenceError } from '../inference/client.js';
import type { Logger } from '../logger.js';
import type { JobRecord, JobStore } from '../store/job-store.js';
import { startJobEvents } from './job-events.js';
import { describeJob, formatProgress, formatQueued, formatWaitingForUser } from './job-status.js';
import type { JobPayload, JobView } from './job-view.js';
import { renderPreview, renderResult } from './render-result.js';
import { ThrottledUpdater } from './throttle.js';
import type { Ticket } from './user-limiter.js';

export interface JobRunnerDeps {
  inference: InferenceClient;
  store: JobStore;
  logger: Logger;
  upscaleSize: number;
  progressIntervalMs: number;
  streamTimeoutMs?: number;
  now?: () => number;
}

const RETRYABLE = new Set(['unavailable', 'busy', 'timeout']);

/** Resolves to the images on success, undefined on failure (already reported in the view). */
export async function runImageJob(
  deps: JobRunnerDeps,
  job: JobRecord,
  view: JobView,
  ticket: Ticket,
  signal?: AbortSignal,
): Promise<GeneratedImage[] | undefined> {
  const throttle = new ThrottledUpdater<() => Promise<JobPayload>>(
    async (make) => view.update(await make()),
    deps.progressIntervalMs,
    (err) => deps.logger.warn('progress update failed', { jobId: job.id, err }),
    deps.now,
  );
  try {
    if (ticket.waitingBehind > 0) {
      await view.update({
        content: `${describeJob(job.params)}\n${formatWaitingForUser(ticket.waitingBehind)}`,
      });
    } else {
      await view.update({ content: `${describeJob(job.params)}\n⏳ Sending to the image server…` });
    }
    await ticket.ready;
    let images: GeneratedImage[] | undefined;
    let plan: string | undefined;
    const events = startJobEvents(deps.inference, job, {
      signal,
      previews: true,
      timeoutMs: deps.streamTimeoutMs,
    });
    for await (const event of events) {
      if (event.kind === 'queued') {
        const status = formatQueued(event.position, event.queueLength);
        throttle.push(async () => ({ content: `${describeJob(job.params)}\n${status}` }));
      } else if (event.kind === 'progress') {
        const status = formatProgress(event.fraction, event.stage, event.step, event.totalSteps);
        const preview: ImageData | undefined = event.preview;
        throttle.push(() =>
          renderPreview(describeJob(job.params), job.id, status, preview, deps.upscaleSize),
        );
      } else {
        images = event.images;
        plan = event.plan;
      }
    }
    await throttle.close();
    if (!images || images.length === 0)
      throw new InferenceError('internal', 'the server sent no result images');
    deps.store.completeJob(
      job.id,
      images.map((g) => ({ image: g.image, seed: g.seed.toString(), tokens: g.tokens })),
    );
    await view.update(await renderResult(job, images, deps.upscaleSize, plan));
    deps.logger.info('job done', { jobId: job.id, kind: job.params.kind, userId: job.userId });
    return images;
  } catch (err) {
    await throttle.close();
    deps.store.failJob(job.id);
    const log = isExpectedError(err) ? deps.logger.info : deps.logger.error;
    log('job failed', { jobId: job.id, kind: job.params.kind, userId: job.userId, err });
    // Aborted = the bot is shutting down: the job is stored, so it can be run again after the restart.
    const restarting = signal?.aborted === true;
    const retry = restarting || (err instanceof InferenceError && RETRYABLE.has(err.kind));
    const content = restarting
      ? `The bot is restarting. Your job \`${job.id}\` was saved: press **Try again** in a minute.`
      : describeError(err, job.id);
    await view
      .update({ content, buttons: retry ? buildRetryButton(job.id) : [] })
      .catch((e) => deps.logger.warn('could not report job failure', { jobId: job.id, err: e }));
    return undefined;
  } finally {
    ticket.release();
  }
}
