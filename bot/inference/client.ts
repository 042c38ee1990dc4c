/**
 * The only view of the inference server the bot has. `bot/main.ts` hands a gRPC implementation
 * (`grpc-client.ts`) to `createBot`; tests hand a fake. Nothing else in `bot/` imports gRPC.
 */

/** Encoded image bytes (PNG, JPEG, WebP or GIF in; PNG or WebP out). */
export interface ImageData {
  data: Uint8Array;
  mimeType?: string;
}

export interface CallOptions {
  /** Abort = cancel the call on the server too. */
  signal?: AbortSignal;
  /** Milliseconds from now; the client picks a per-RPC default when unset. */
  timeoutMs?: number;
}

export interface SamplingOverrides {
  seed?: bigint; // u64
  guidanceScale?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  steps?: number;
}

export interface RevealFrames {
  frames: ImageData[]; // frame i decodes the (i+1) coarsest tokens
  animation?: ImageData; // animated WebP or GIF
  tokensKept: number[];
}

export interface GeneratedImage {
  image: ImageData;
  seed: bigint;
  tokens: number[]; // code order, index 0 = finest
  reveal?: RevealFrames;
}

export interface QueuedEvent {
  kind: 'queued';
  position: number; // 1 = next to run
  queueLength: number;
}

export interface ProgressEvent {
  kind: 'progress';
  fraction: number; // 0..1
  stage: string;
  step: number;
  totalSteps: number;
  preview?: ImageData;
}

export type ImageJobEvent =
  | QueuedEvent
  | ProgressEvent
  | { kind: 'result'; images: GeneratedImage[]; model: string; plan?: string };

export type ChatEvent =
  | QueuedEvent
  | ProgressEvent
  | { kind: 'text'; delta: string }
  | { kind: 'done'; text: string; image?: GeneratedImage; finishReason: string };

export type ChatPart = { kind: 'text'; text: string } | { kind: 'image'; image: ImageData };
export interface ChatTurn {
  role: 'user' | 'assistant';
  parts: ChatPart[];
}

export interface ServerLimits {
  maxPromptChars: number; // 0 = unknown
  maxImageBytes: number; // 0 = unknown
  maxImagePixels: number; // 0 = unknown
  imageSize: number; // model resolution (square), 0 = unknown
  tokensPerImage: number; // K, 0 = unknown
}

export interface ModelInfo extends ServerLimits {
  name: string;
  capabilities: string[];
}

export interface GenerateRequest extends SamplingOverrides {
  prompt: string;
  count: number; // 1-4
  previews?: boolean;
  reveal?: boolean;
}

export interface EditRequest extends SamplingOverrides {
  image: ImageData;
  instruction: string;
  count: number;
  previews?: boolean;
}

export interface BlendRequest {
  imageA: ImageData;
  imageB: ImageData;
  amount: number; // 0..1, fraction of the coarsest tokens taken from image B
  seed?: bigint;
  previews?: boolean;
}

export interface DecodeRequest {
  tokens: number[];
  keep?: number; // keep only the `keep` coarsest tokens; 0/unset = all
  seed?: bigint;
  steps?: number; // decoder steps; unset = the model's default
  reveal?: boolean;
}

/** An answer about an image, with the model's caption of the image when it answered after captioning it. */
export interface AskAnswer {
  answer: string;
  caption?: string;
}

export interface InferenceClient {
  getModelInfo(options?: CallOptions): Promise<ModelInfo>;
  caption(request: { image: ImageData }, options?: CallOptions): Promise<string>;
  ask(request: { image: ImageData; question: string }, options?: CallOptions): Promise<AskAnswer>;
  generate(request: GenerateRequest, options?: CallOptions): AsyncIterable<ImageJobEvent>;
  edit(request: EditRequest, options?: CallOptions): AsyncIterable<ImageJobEvent>;
  blend(request: BlendRequest, options?: CallOptions): AsyncIterable<ImageJobEvent>;
  chat(
    request: { turns: ChatTurn[]; seed?: bigint; previews?: boolean },
    options?: CallOptions,
  ): AsyncIterable<ChatEvent>;
  encode(request: { image: ImageData }, options?: CallOptions): Promise<number[]>;
  decode(request: DecodeRequest, options?: CallOptions): AsyncIterable<ImageJobEvent>;
  close(): void;
}

/** Why a call failed, in the terms the bot reacts to (not gRPC status codes). */
export type InferenceErrorKind =
  | 'unavailable' // no server reachable: it is down
  | 'busy' // server queue full
  | 'invalid' // the request was refused (bad image, prompt too long, ...)
  | 'too_large'
  | 'timeout'
  | 'cancelled'
  | 'unauthenticated'
  | 'internal';

export class InferenceError extends Error {
  constructor(
    readonly kind: InferenceErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'InferenceError';
  }
}
