/** Edit: image + instruction -> 1-4 edited images, streamed like Generate. */
import type { EditRequest, ImageJobEvent } from '../../protocol/types.js';
import { type ServerDeps, wrapServerStream } from '../call-context.js';
import { resolveModel } from '../models.js';
import { checkText, resolveImageCount } from '../request-checks.js';
import { resolveSampling } from '../sampling.js';
import { readInputImage } from './common.js';
import { openImageStream } from './image-stream.js';

export const createEditHandler = (deps: ServerDeps) =>
  wrapServerStream<EditRequest, ImageJobEvent>('Edit', deps, async (req, ctx, send) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'edit');
    const instruction = checkText(req.instruction, 'instruction', deps.config.limits.maxPromptChars);
    const count = resolveImageCount(req.num_images);
    const params = resolveSampling(req, runtime.description);
    const image = await readInputImage(deps, runtime.description, req.image, 'image');
    const stream = openImageStream(deps, ctx, send, req, req.previews);
    const images = await runtime.edit(image, instruction, count, params, stream.job);
    ctx.recordOutput(name, {
      imageTokens: images.length * runtime.description.tokensPerImage,
      images: images.length,
    });
    await stream.sendImages(name, runtime, images, params);
  });
