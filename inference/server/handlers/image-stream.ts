/** The event stream of an image RPC: queue and progress events while the runtime works, then one result. */
import type { AnimationFormat, ImageJobEvent, ImageResult, OutputFormat } from '../../protocol/types.js';
import type {
  JobContext,
  ModelRuntime,
  GeneratedImage as RuntimeImage,
  SamplingParams,
} from '../../runtime/api.js';
import type { CallContext, ServerDeps } from '../call-context.js';
import { createJobEventWriter } from '../job-events.js';
import { type OutputOptions, toGeneratedImages } from '../results.js';
import { outputOptions } from './common.js';

export interface ImageStream {
  /** Hooks to hand the runtime. */
  job: JobContext;
  out: OutputOptions;
  /** Sends the result after every earlier event. */
  sendResult(result: ImageResult): Promise<void>;
  /** Encodes the runtime's images (and their reveals) and sends them as the result. */
  sendImages(
    model: string,
    runtime: ModelRuntime,
    images: RuntimeImage[],
    params: SamplingParams,
  ): Promise<void>;
}

export function openImageStream(
  deps: ServerDeps,
  ctx: CallContext,
  send: (event: ImageJobEvent) => void,
  req: { output_format: OutputFormat; animation_format: AnimationFormat; reveal: boolean },
  previews: boolean,
): ImageStream {
  const out = outputOptions(deps, req);
  const events = createJobEventWriter(
    ctx,
    out.format,
    (body) => send({ request_id: ctx.requestId, ...body } as ImageJobEvent),
    { progressIntervalMs: deps.config.progressIntervalMs },
  );
  const job = events.jobContext({ previews });
  const sendResult = async (result: ImageResult) => {
    await events.flush();
    send({ request_id: ctx.requestId, event: 'result', result });
  };
  return {
    job,
    out,
    sendResult,
    sendImages: async (model, runtime, images, params) => {
      const plan = images[0]?.plan;
      const encoded = await toGeneratedImages(runtime, images, params, job, out);
      const result = { images: encoded, model, ...(plan === undefined ? {} : { plan }) };
      await sendResult(result);
    },
  };
}
