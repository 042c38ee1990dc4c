/** Caption: image -> text. */
import type { CaptionRequest, CaptionResponse } from '../../protocol/types.js';
import { type ServerDeps, wrapUnary } from '../call-context.js';
import { decodeInputImage } from '../image-input.js';
import { resolveModel } from '../models.js';
import { imageLimits } from './common.js';

export const createCaptionHandler = (deps: ServerDeps) =>
  wrapUnary<CaptionRequest, CaptionResponse>('Caption', deps, async (req, ctx) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'caption');
    const image = await decodeInputImage(
      req.image,
      'image',
      runtime.description.imageSize,
      imageLimits(deps),
    );
    let deltas = 0;
    const text = await runtime.caption(image, {
      signal: ctx.signal,
      deadline: ctx.deadline,
      onProgress: () => ctx.markStarted(),
      onTextDelta: () => {
        ctx.markStarted();
        deltas++;
      },
    });
    ctx.recordOutput(name, { textTokens: deltas });
    return { text, model: name };
  });
