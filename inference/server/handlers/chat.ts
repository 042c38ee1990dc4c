/** Chat: multi-turn, multimodal; streams text deltas and progress, ends with text or an image. */
import type { ChatEvent, ChatRequest, GeneratedImage, Turn } from '../../protocol/types.js';
import type { ChatTurn, ModelDescription } from '../../runtime/api.js';
import { type ServerDeps, wrapServerStream } from '../call-context.js';
import { invalidArgument } from '../errors.js';
import { createJobEventWriter } from '../job-events.js';
import { resolveModel } from '../models.js';
import { checkText } from '../request-checks.js';
import { toGeneratedImages } from '../results.js';
import { resolveSampling } from '../sampling.js';
import { readInputImage } from './common.js';

/** Validates turns and decodes their images; the last turn must be the user's. */
export async function toChatTurns(
  turns: Turn[],
  desc: ModelDescription,
  deps: ServerDeps,
): Promise<ChatTurn[]> {
  if (turns.length === 0) throw invalidArgument('turns is empty');
  if (turns[turns.length - 1]?.role !== 'ROLE_USER')
    throw invalidArgument("the last turn must be the user's");
  const imageCount = turns.flatMap((t) => t.parts).filter((p) => p.content === 'image').length;
  if (imageCount > deps.config.limits.maxChatImages) {
    throw invalidArgument(
      `the conversation has ${imageCount} images; the limit is ${deps.config.limits.maxChatImages}`,
    );
  }
  const result: ChatTurn[] = [];
  for (const [i, turn] of turns.entries()) {
    if (turn.role !== 'ROLE_USER' && turn.role !== 'ROLE_ASSISTANT')
      throw invalidArgument(`turns[${i}].role is not set`);
    if (turn.parts.length === 0) throw invalidArgument(`turns[${i}] has no parts`);
    const parts: ChatTurn['parts'] = [];
    for (const [j, part] of turn.parts.entries()) {
      const field = `turns[${i}].parts[${j}]`;
      if (part.content === 'text') {
        parts.push({
          kind: 'text',
          text: checkText(part.text ?? '', field, deps.config.limits.maxPromptChars),
        });
      } else if (part.content === 'image') {
        parts.push({
          kind: 'image',
          image: await readInputImage(deps, desc, part.image, field),
        });
      } else {
        throw invalidArgument(`${field} has neither text nor an image`);
      }
    }
    result.push({ role: turn.role === 'ROLE_USER' ? 'user' : 'assistant', parts });
  }
  return result;
}

export const createChatHandler = (deps: ServerDeps) =>
  wrapServerStream<ChatRequest, ChatEvent>('Chat', deps, async (req, ctx, send) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'chat');
    const params = resolveSampling(req, runtime.description);
    const turns = await toChatTurns(req.turns, runtime.description, deps);
    const events = createJobEventWriter(
      ctx,
      req.output_format,
      (body) => send({ request_id: ctx.requestId, ...body } as ChatEvent),
      { progressIntervalMs: deps.config.progressIntervalMs },
    );
    let deltas = 0;
    const job = events.jobContext({
      previews: req.previews,
      onTextDelta: (delta) => {
        deltas++;
        events.push(() => ({ text_delta: delta }));
      },
    });
    const answer = await runtime.chat(turns, params, job);
    let image: GeneratedImage | null = null;
    if (answer.image) {
      const out = {
        format: req.output_format,
        animationFormat: 'ANIMATION_FORMAT_UNSPECIFIED',
        reveal: false,
        revealMaxFrames: 0,
      } as const;
      image = (await toGeneratedImages(runtime, [answer.image], params, job, out))[0] ?? null;
    }
    ctx.recordOutput(name, {
      textTokens: deltas,
      imageTokens: answer.image ? runtime.description.tokensPerImage : 0,
      images: answer.image ? 1 : 0,
    });
    await events.flush();
    send({
      request_id: ctx.requestId,
      event: 'done',
      done: { text: answer.text, image, finish_reason: answer.finishReason },
    });
  });
