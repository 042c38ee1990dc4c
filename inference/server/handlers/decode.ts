/** Decode: K code ids (optionally only the `keep` coarsest) -> one image, optionally with its reveal. */
import type { DecodeRequest, ImageJobEvent } from '../../protocol/types.js';
import { type ServerDeps, wrapServerStream } from '../call-context.js';
import { encodeImage } from '../image-output.js';
import { resolveModel } from '../models.js';
import { checkTokens, resolveKeep } from '../request-checks.js';
import { buildReveal } from '../results.js';
import { resolveSampling } from '../sampling.js';
import { openImageStream } from './image-stream.js';

export const createDecodeHandler = (deps: ServerDeps) =>
  wrapServerStream<DecodeRequest, ImageJobEvent>('Decode', deps, async (req, ctx, send) => {
    const { name, runtime } = resolveModel(ctx.models, req.model, deps.config.defaultModel, 'decode');
    const d = runtime.description;
    const tokens = checkTokens(req.tokens, d);
    const keep = resolveKeep(req.keep, d.tokensPerImage);
    // Decoding samples noise: without a seed the result would differ per call, so default to 0.
    const params = resolveSampling({ seed: req.seed ?? '0', steps: req.steps }, d);
    const { job, out, sendResult } = openImageStream(deps, ctx, send, req, false);
    const pixels = await runtime.decode(tokens, keep, params, job);
    ctx.recordOutput(name, { images: 1 });
    const image = {
      image: await encodeImage(pixels, out.format),
      seed: params.seed.toString(),
      tokens,
      reveal: out.reveal ? await buildReveal(runtime, tokens, params, job, out) : null,
    };
    await sendResult({ images: [image], model: name });
  });
