/** GetModelInfo: what each loaded model can do, its defaults, and this server's limits. */
import type { GetModelInfoRequest, GetModelInfoResponse, ModelInfo } from '../../protocol/types.js';
import type { ModelRuntime } from '../../runtime/api.js';
import { type ServerDeps, wrapUnary } from '../call-context.js';
import { defaultModelName, stepBounds } from '../models.js';

export const SERVER_VERSION = '0.1.0';

function toModelInfo(name: string, runtime: ModelRuntime, deps: ServerDeps): ModelInfo {
  const d = runtime.description;
  const steps = stepBounds(d);
  return {
    name,
    description: d.description,
    capabilities: d.capabilities,
    image_size: d.imageSize,
    tokens_per_image: d.tokensPerImage,
    codebook_size: d.codebookSize,
    token_order: d.tokenOrder,
    defaults: {
      guidance_scale: d.defaults.guidanceScale,
      temperature: d.defaults.temperature,
      top_k: d.defaults.topK,
      top_p: d.defaults.topP,
      steps: d.defaults.steps,
    },
    max_prompt_chars: deps.config.limits.maxPromptChars,
    max_image_bytes: String(deps.config.limits.maxImageBytes),
    max_image_pixels: deps.config.limits.maxImagePixels,
    min_steps: steps.min,
    max_steps: steps.max,
  };
}

export const createGetModelInfoHandler = (deps: ServerDeps) =>
  wrapUnary<GetModelInfoRequest, GetModelInfoResponse>('GetModelInfo', deps, async (_req, ctx) => {
    const models = [...ctx.models].map(([name, runtime]) => toModelInfo(name, runtime, deps));
    const maxQueue = Math.max(0, ...[...ctx.models.values()].map((r) => r.stats().maxQueue));
    return {
      models,
      default_model: defaultModelName(ctx.models, deps.config.defaultModel),
      server_version: SERVER_VERSION,
      max_queue: maxQueue,
    };
  });
