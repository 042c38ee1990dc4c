/** Caption: image -> text. */
import type { CaptionRequest, CaptionResponse } from '../../protocol/types.js';
import { type ServerDeps, wrapUnary } from '../call-context.js';
import { resolveModel } from '../models.js';
import { readInputImage } from './common.js';
import { runTextJob } from './unary-job.js';

export const createCaptionHandler = (deps: ServerDeps) =>
  wrapUnary<CaptionRequest, CaptionResponse>('Caption', deps, async (req, ctx) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'caption');
    const image = await readInputImage(deps, runtime.description, req.image, 'image');
    const text = await runTextJob(ctx, name, (job) => runtime.caption(image, job));
    return { text, model: name };
  });
