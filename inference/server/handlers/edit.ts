/** Edit: image + instruction -> 1-4 edited images, streamed like Generate. */
import type { EditRequest, ImageJobEvent } from '../../protocol/types.js';
import { type ServerDeps, wrapServerStream } from '../call-context.js';
import { decodeInputImage } from '../image-input.js';
import { createJobEventWriter } from '../job-events.js';
import { resolveModel } from '../models.js';
import { checkText, resolveImageCount } from '../request-checks.js';
import { toGeneratedImages } from '../results.js';
import { resolveSampling } from '../sampling.js';
import { imageLimits, outputOptions } from './common.js';

export const createEditHandler = (deps: ServerDeps) =>
  wrapServerStream<EditRequest, ImageJobEvent>('Edit', deps, async (req, ctx, send) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'edit');
    const instruction = checkText(req.instruction, 'instruction', deps.config.limits.maxPromptChars);
    const count = resolveImageCount(req.num_images);
    const params = resolveSampling(req, runtime.description);
    const image = await decodeInputImage(
      req.image,
      'image',
      runtime.description.imageSize,
      imageLimits(deps),
    );
    const out = outputOptions(deps, req);
    const events = createJobEventWriter(ctx, out.format, (body) =>
      send({ request_id: ctx.requestId, ...body } as ImageJobEvent),
    );
    const job = events.jobContext({ previews: req.previews });
    const images = await runtime.edit(image, instruction, count, params, job);
    ctx.recordOutput(name, {
      imageTokens: images.length * runtime.description.tokensPerImage,
      images: images.length,
    });
    const result = { images: await toGeneratedImages(runtime, images, params, job, out), model: name };
    await events.flush();
    send({ request_id: ctx.requestId, event: 'result', result });
  });
