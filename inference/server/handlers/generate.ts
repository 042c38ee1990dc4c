/** Generate: prompt -> 1-4 images, streamed as queued/progress events and one result. */
import type { GenerateRequest, ImageJobEvent } from '../../protocol/types.js';
import { type ServerDeps, wrapServerStream } from '../call-context.js';
import { resolveModel } from '../models.js';
import { checkText, resolveImageCount } from '../request-checks.js';
import { resolveSampling } from '../sampling.js';
import { openImageStream } from './image-stream.js';

export const createGenerateHandler = (deps: ServerDeps) =>
  wrapServerStream<GenerateRequest, ImageJobEvent>('Generate', deps, async (req, ctx, send) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'generate');
    const prompt = checkText(req.prompt, 'prompt', deps.config.limits.maxPromptChars);
    const count = resolveImageCount(req.num_images);
    const params = resolveSampling(req, runtime.description);
    const stream = openImageStream(deps, ctx, send, req, req.previews);
    const images = await runtime.generate(prompt, count, params, stream.job);
    ctx.recordOutput(name, {
      imageTokens: images.length * runtime.description.tokensPerImage,
      images: images.length,
    });
    await stream.sendImages(name, runtime, images, params);
  });
