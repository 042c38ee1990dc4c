/** Blend: image_a with a range of image_b's DDT codes swapped in -> one image, streamed like Generate. */
import type { BlendRequest, ImageJobEvent } from '../../protocol/types.js';
import { type ServerDeps, wrapServerStream } from '../call-context.js';
import { resolveModel } from '../models.js';
import { resolveBlendRange } from '../request-checks.js';
import { resolveSampling } from '../sampling.js';
import { readInputImage } from './common.js';
import { openImageStream } from './image-stream.js';

export const createBlendHandler = (deps: ServerDeps) =>
  wrapServerStream<BlendRequest, ImageJobEvent>('Blend', deps, async (req, ctx, send) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'blend');
    const d = runtime.description;
    const range = resolveBlendRange(req.from_index, req.to_index, req.amount, d.tokensPerImage);
    const params = resolveSampling({ seed: req.seed, steps: req.steps }, d);
    const [a, b] = await Promise.all([
      readInputImage(deps, d, req.image_a, 'image_a'),
      readInputImage(deps, d, req.image_b, 'image_b'),
    ]);
    const stream = openImageStream(deps, ctx, send, req, req.previews);
    const image = await runtime.blend(a, b, range, params, stream.job);
    ctx.recordOutput(name, { images: 1 });
    await stream.sendImages(name, runtime, [image], params);
  });
