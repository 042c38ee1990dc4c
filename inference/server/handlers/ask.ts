/** Ask: image + question -> answer (VQA). */
import type { AskRequest, AskResponse } from '../../protocol/types.js';
import { type ServerDeps, wrapUnary } from '../call-context.js';
import { resolveModel } from '../models.js';
import { checkText } from '../request-checks.js';
import { readInputImage } from './common.js';
import { runTextJob } from './unary-job.js';

export const createAskHandler = (deps: ServerDeps) =>
  wrapUnary<AskRequest, AskResponse>('Ask', deps, async (req, ctx) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'ask');
    const question = checkText(req.question, 'question', deps.config.limits.maxPromptChars);
    const image = await readInputImage(deps, runtime.description, req.image, 'image');
    const answer = await runTextJob(ctx, name, (job) => runtime.ask(image, question, job));
    return { answer: answer.text, model: name, caption: answer.caption ?? '' };
  });
