/** Encode: image -> K DDT code ids (code order). */
import type { EncodeRequest, EncodeResponse } from '../../protocol/types.js';
import { type ServerDeps, wrapUnary } from '../call-context.js';
import { decodeInputImage } from '../image-input.js';
import { resolveModel } from '../models.js';
import { imageLimits } from './common.js';

export const createEncodeHandler = (deps: ServerDeps) =>
  wrapUnary<EncodeRequest, EncodeResponse>('Encode', deps, async (req, ctx) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'encode');
    const image = await decodeInputImage(
      req.image,
      'image',
      runtime.description.imageSize,
      imageLimits(deps),
    );
    const tokens = await runtime.encode(image, {
      signal: ctx.signal,
      deadline: ctx.deadline,
      onProgress: () => ctx.markStarted(),
    });
    return { tokens, model: name, token_order: 'code_order' };
  });
