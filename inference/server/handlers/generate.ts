/** Generate: prompt -> 1-4 images, streamed as queued/progress events and one result. */
import type { GenerateRequest, ImageJobEvent } from '../../protocol/types.js';
import { type ServerDeps, wrapServerStream } from '../call-context.js';
import { createJobEventWriter } from '../job-events.js';
import { resolveModel } from '../models.js';
import { checkText, resolveImageCount } from '../request-checks.js';
import { toGeneratedImages } from '../results.js';
import { resolveSampling } from '../sampling.js';
import { outputOptions } from './common.js';

export const createGenerateHandler = (deps: ServerDeps) =>
  wrapServerStream<GenerateRequest, ImageJobEvent>('Generate', deps, async (req, ctx, send) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'generate');
    const prompt = checkText(req.prompt, 'prompt', deps.config.limits.maxPromptChars);
    const count = resolveImageCount(req.num_images);
    const params = resolveSampling(req, runtime.description);
    const out = outputOptions(deps, req);
    const events = createJobEventWriter(ctx, out.format, (body) =>
      send({ request_id: ctx.requestId, ...body } as ImageJobEvent),
    );
    const job = events.jobContext({ previews: req.previews });
    const images = await runtime.generate(prompt, count, params, job);
    ctx.recordOutput(name, {
      imageTokens: images.length * runtime.description.tokensPerImage,
      images: images.length,
    });
    const result = { images: await toGeneratedImages(runtime, images, params, job, out), model: name };
    await events.flush();
    send({ request_id: ctx.requestId, event: 'result', result });
  });
