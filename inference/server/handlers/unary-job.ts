/** Runtime hooks for unary RPCs (no progress events to stream): cancellation, deadline, queue wait. */
import type { JobContext } from '../../runtime/api.js';
import type { CallContext } from '../call-context.js';

/** The job context of a unary call: the first progress event ends its queue wait. */
export function unaryJob(ctx: CallContext): JobContext {
  return { signal: ctx.signal, deadline: ctx.deadline, onProgress: () => ctx.markStarted() };
}

/** Runs a runtime call that answers in text, counting its streamed deltas as the model's text tokens. */
export async function runTextJob<T>(
  ctx: CallContext,
  model: string,
  call: (job: JobContext) => Promise<T>,
): Promise<T> {
  let deltas = 0;
  const text = await call({
    ...unaryJob(ctx),
    onTextDelta: () => {
      ctx.markStarted();
      deltas++;
    },
  });
  ctx.recordOutput(model, { textTokens: deltas });
  return text;
}
