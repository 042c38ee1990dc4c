/** Encode: image -> K DDT code ids (code order). */
import type { EncodeRequest, EncodeResponse } from '../../protocol/types.js';
import { type ServerDeps, wrapUnary } from '../call-context.js';
import { resolveModel } from '../models.js';
import { readInputImage } from './common.js';
import { unaryJob } from './unary-job.js';

export const createEncodeHandler = (deps: ServerDeps) =>
  wrapUnary<EncodeRequest, EncodeResponse>('Encode', deps, async (req, ctx) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'encode');
    const image = await readInputImage(deps, runtime.description, req.image, 'image');
    const tokens = await runtime.encode(image, unaryJob(ctx));
    return { tokens, model: name, token_order: 'code_order' };
  });
