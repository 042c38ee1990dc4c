/**
 * Bridges the runtime's synchronous hooks (onQueue, onProgress) to stream events. Previews need async
 * encoding, so events go through one promise chain: they reach the client in the order the runtime
 * emitted them, and the final result is written only after every earlier event.
 *
 * Plain progress events (no preview) are rate-limited to one per `progressIntervalMs`: the runtime
 * reports every model step (a Generate makes ~25 in ~100 ms), and each event is a gRPC message that
 * costs the server and the client a wake-up, serialisation and a socket write while the model runs,
 * taking CPU from it (ProgressGate: the newest held event is written when the interval is over, before
 * any other event and before the result, so a client always sees the last progress).
 */

import type { OutputFormat, Progress, Queued } from '../protocol/types.js';
import type { JobContext, ProgressEvent, QueueEvent } from '../runtime/api.js';
import { ProgressGate } from '../runtime/progress-gate.js';
import type { CallContext } from './call-context.js';
import { encodeImage } from './image-output.js';

export type JobEventBody = { queued: Queued } | { progress: Progress } | { text_delta: string };

export interface JobEventWriter {
  /** Hooks for the runtime; `previews` asks the runtime for preview images. */
  jobContext(options: { previews: boolean; onTextDelta?: (delta: string) => void }): JobContext;
  /** Appends an event after every earlier one. */
  push(make: () => JobEventBody | Promise<JobEventBody>): void;
  /** Writes a held progress event, then resolves when every pushed event has been written. */
  flush(): Promise<void>;
}

export interface JobEventOptions {
  /** Least time between two plain progress events; 0 sends every one. */
  progressIntervalMs: number;
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
  options: JobEventOptions,
): JobEventWriter {
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const append = (make: () => JobEventBody | Promise<JobEventBody>) => {
    chain = chain.then(async () => {
      if (failure !== undefined || ctx.signal.aborted) return;
      try {
        write(await make());
      } catch (err) {
        failure = err;
      }
    });
  };

  const progress = new ProgressGate(options.progressIntervalMs, (e) => {
    if (!ctx.signal.aborted) append(async () => ({ progress: await toProgress(e, format) }));
  });

  const push = (make: () => JobEventBody | Promise<JobEventBody>) => {
    progress.release();
    append(make);
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
        progress.offer(e);
      },
      onTextDelta:
        onTextDelta &&
        ((delta) => {
          ctx.markStarted();
          onTextDelta(delta);
        }),
    }),
    flush: async () => {
      progress.release();
      await chain;
      if (failure !== undefined) throw failure;
    },
  };
}
