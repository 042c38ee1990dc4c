/** The ddt.v1.Inference implementation: one handler per RPC, listed explicitly. */
import type * as grpc from '@grpc/grpc-js';
import type { ServerDeps } from './call-context.js';
import { createAskHandler } from './handlers/ask.js';
import { createBlendHandler } from './handlers/blend.js';
import { createCaptionHandler } from './handlers/caption.js';
import { createChatHandler } from './handlers/chat.js';
import { createDecodeHandler } from './handlers/decode.js';
import { createEditHandler } from './handlers/edit.js';
import { createEncodeHandler } from './handlers/encode.js';
import { createGenerateHandler } from './handlers/generate.js';
import { createGetModelInfoHandler } from './handlers/get-model-info.js';

export function createInferenceService(deps: ServerDeps): grpc.UntypedServiceImplementation {
  return {
    GetModelInfo: createGetModelInfoHandler(deps),
    Caption: createCaptionHandler(deps),
    Ask: createAskHandler(deps),
    Generate: createGenerateHandler(deps),
    Edit: createEditHandler(deps),
    Chat: createChatHandler(deps),
    Blend: createBlendHandler(deps),
    Encode: createEncodeHandler(deps),
    Decode: createDecodeHandler(deps),
  } as grpc.UntypedServiceImplementation;
}
