/**
 * One chat answer: streams text (throttled edits) or an image (previews, then the result with
 * buttons) into the reply. Long text is split: the first part in the reply, the rest posted by
 * `postMore` as replies to it, so the reply chain stays one conversation.
 */
import { buildResultButtons } from '../components/result-buttons.js';
import type { ChatTurn, GeneratedImage } from '../inference/client.js';
import { InferenceError } from '../inference/client.js';
import { formatProgress, formatQueued } from '../jobs/job-status.js';
import type { JobPayload, JobView } from '../jobs/job-view.js';
import { renderPreview, renderResult } from '../jobs/render-result.js';
import type { JobRunnerDeps } from '../jobs/run-image-job.js';
import { ThrottledUpdater } from '../jobs/throttle.js';
import type { Ticket } from '../jobs/user-limiter.js';
import { postChatText, reportChatFailure, startChatReply } from './chat-reply.js';

export interface ChatRequest {
  userId: string;
  guildId: string | null;
  channelId: string;
  turns: ChatTurn[];
}

export type ChatOutcome =
  | { kind: 'text'; text: string }
  | { kind: 'image'; jobId: string; image: GeneratedImage };

export async function runChat(
  deps: JobRunnerDeps,
  request: ChatRequest,
  view: JobView,
  postMore: (text: string) => Promise<void>,
  ticket: Ticket,
  signal?: AbortSignal,
): Promise<ChatOutcome | undefined> {
  const throttle = new ThrottledUpdater<() => Promise<JobPayload>>(
    async (make) => view.update(await make()),
    deps.progressIntervalMs,
    (err) => deps.logger.warn('chat update failed', { userId: request.userId, err }),
    deps.now,
  );
  try {
    await startChatReply(view, ticket);
    let streamed = '';
    let done: { text: string; image?: GeneratedImage } | undefined;
    const events = deps.inference.chat(
      { turns: request.turns, previews: true },
      { signal, timeoutMs: deps.streamTimeoutMs },
    );
    for await (const event of events) {
      if (event.kind === 'queued') {
        const status = formatQueued(event.position, event.queueLength);
        throttle.push(async () => ({ content: status }));
      } else if (event.kind === 'progress') {
        const status = formatProgress(event.fraction, event.stage, event.step, event.totalSteps);
        const preview = event.preview;
        throttle.push(() => renderPreview('', 'chat', status, preview, deps.upscaleSize));
      } else if (event.kind === 'text') {
        streamed += event.delta;
        // While streaming show the newest text that fits; the full answer is split at the end.
        const shown = streamed.length > 1900 ? `…${streamed.slice(-1890)}` : streamed;
        throttle.push(async () => ({ content: `${shown} ▌` }));
      } else {
        done = { text: event.text || streamed, image: event.image };
      }
    }
    await throttle.close();
    if (!done) throw new InferenceError('internal', 'chat stream ended without an answer');
    if (done.image) {
      const job = deps.store.createJob({ ...request, params: { kind: 'chat' } });
      const image = done.image;
      deps.store.completeJob(job.id, [
        { image: image.image, seed: image.seed.toString(), tokens: image.tokens },
      ]);
      const payload = await renderResult(job, [image], deps.upscaleSize);
      await view.update({ ...payload, buttons: buildResultButtons(job.id, 'chat', 1) });
      return { kind: 'image', jobId: job.id, image };
    }
    await postChatText(view, postMore, done.text);
    return { kind: 'text', text: done.text };
  } catch (err) {
    await throttle.close();
    await reportChatFailure(deps, request, view, err);
    return undefined;
  } finally {
    ticket.release();
  }
}
