/**
 * Bridges the runtime's synchronous hooks (onQueue, onProgress) to stream events. Previews need async
 * encoding, so events go through one promise chain: they reach the client in the order the runtime
 * emitted them, and the final result is written only after every earlier event.
 */

import type { OutputFormat, Progress, Queued } from '../protocol/types.js';
import type { JobContext, ProgressEvent, QueueEvent } from '../runtime/api.js';
import type { CallContext } from './call-context.js';
import { encodeImage } from './image-output.js';

export type JobEventBody = { queued: Queued } | { progress: Progress } | { text_delta: string };

export interface JobEventWriter {
  /** Hooks for the runtime; `previews` asks the runtime for preview images. */
  jobContext(options: { previews: boolean; onTextDelta?: (delta: string) => void }): JobContext;
  /** Appends an event after every earlier one. */
  push(make: () => JobEventBody | Promise<JobEventBody>): void;
  /** Resolves when every pushed event has been written. */
  flush(): Promise<void>;
}

export function toQueued(e: QueueEvent): Queued {
  return { position: e.position, queue_length: e.queueLength };
}

export async function toProgress(e: ProgressEvent, format: OutputFormat): Promise<Progress> {
  return {
    fraction: e.fraction,
    stage: e.stage,
    step: e.step,
    total_steps: e.totalSteps,
    preview: e.preview ? await encodeImage(e.preview, format) : null,
  };
}

export function createJobEventWriter(
  ctx: CallContext,
  format: OutputFormat,
  write: (body: JobEventBody) => void,
): JobEventWriter {
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const push = (make: () => JobEventBody | Promise<JobEventBody>) => {
    chain = chain.then(async () => {
      if (failure !== undefined || ctx.signal.aborted) return;
      try {
        write(await make());
      } catch (err) {
        failure = err;
      }
    });
  };
  return {
    push,
    jobContext: ({ previews, onTextDelta }) => ({
      signal: ctx.signal,
      deadline: ctx.deadline,
      previews,
      onQueue: (e) => push(() => ({ queued: toQueued(e) })),
      onProgress: (e) => {
        if (e.stage !== 'queued') ctx.markStarted();
        push(async () => ({ progress: await toProgress(e, format) }));
      },
      onTextDelta:
        onTextDelta &&
        ((delta) => {
          ctx.markStarted();
          onTextDelta(delta);
        }),
    }),
    flush: async () => {
      await chain;
      if (failure !== undefined) throw failure;
    },
  };
}
