/** Ask: image + question -> answer (VQA). */
import type { AskRequest, AskResponse } from '../../protocol/types.js';
import { type ServerDeps, wrapUnary } from '../call-context.js';
import { decodeInputImage } from '../image-input.js';
import { resolveModel } from '../models.js';
import { checkText } from '../request-checks.js';
import { imageLimits } from './common.js';

export const createAskHandler = (deps: ServerDeps) =>
  wrapUnary<AskRequest, AskResponse>('Ask', deps, async (req, ctx) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'ask');
    const question = checkText(req.question, 'question', deps.config.limits.maxPromptChars);
    const image = await decodeInputImage(
      req.image,
      'image',
      runtime.description.imageSize,
      imageLimits(deps),
    );
    let deltas = 0;
    const answer = await runtime.ask(image, question, {
      signal: ctx.signal,
      deadline: ctx.deadline,
      onProgress: () => ctx.markStarted(),
      onTextDelta: () => {
        ctx.markStarted();
        deltas++;
      },
    });
    ctx.recordOutput(name, { textTokens: deltas });
    return { answer, model: name };
  });
