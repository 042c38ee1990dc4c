/** Blend: image_a with a range of image_b's DDT codes swapped in -> one image, streamed like Generate. */
import type { BlendRequest, ImageJobEvent } from '../../protocol/types.js';
import { type ServerDeps, wrapServerStream } from '../call-context.js';
import { decodeInputImage } from '../image-input.js';
import { createJobEventWriter } from '../job-events.js';
import { resolveModel } from '../models.js';
import { resolveBlendRange } from '../request-checks.js';
import { toGeneratedImages } from '../results.js';
import { resolveSampling } from '../sampling.js';
import { imageLimits, outputOptions } from './common.js';

export const createBlendHandler = (deps: ServerDeps) =>
  wrapServerStream<BlendRequest, ImageJobEvent>('Blend', deps, async (req, ctx, send) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'blend');
    const d = runtime.description;
    const range = resolveBlendRange(req.from_index, req.to_index, req.amount, d.tokensPerImage);
    const params = resolveSampling({ seed: req.seed, steps: req.steps }, d);
    const [a, b] = await Promise.all([
      decodeInputImage(req.image_a, 'image_a', d.imageSize, imageLimits(deps)),
      decodeInputImage(req.image_b, 'image_b', d.imageSize, imageLimits(deps)),
    ]);
    const out = outputOptions(deps, req);
    const events = createJobEventWriter(ctx, out.format, (body) =>
      send({ request_id: ctx.requestId, ...body } as ImageJobEvent),
    );
    const job = events.jobContext({ previews: req.previews });
    const image = await runtime.blend(a, b, range, params, job);
    ctx.recordOutput(name, { images: 1 });
    const result = { images: await toGeneratedImages(runtime, [image], params, job, out), model: name };
    await events.flush();
    send({ request_id: ctx.requestId, event: 'result', result });
  });
