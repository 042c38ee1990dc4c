/**
 * The contract between the gRPC layer (inference/server) and the model runtime (inference/runtime).
 * The server decodes/validates images with sharp and hands the runtime RGB pixels at the model's
 * resolution; the runtime owns ONNX sessions (in worker threads), the queue, batching and sampling.
 */

/** 8-bit RGB pixels, row-major, no alpha. data.length === width * height * 3. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Resolved sampling parameters (the server fills unset ones from the model defaults). */
export interface SamplingParams {
  seed: bigint; // u64
  guidanceScale: number; // 1 = no classifier-free guidance
  temperature: number; // 0 = greedy
  topK: number; // 0 = off
  topP: number; // 1 = off
  steps: number; // diffusion decoder steps; 0 = the one-step renderer (only packages with graphs.renderer)
}

export type Stage = 'queued' | 'prefill' | 'caption' | 'plan' | 'tokens' | 'decode' | 'reveal';

export interface ProgressEvent {
  fraction: number; // 0..1 over the whole job
  stage: Stage;
  step: number;
  totalSteps: number;
  preview?: RgbImage; // only when the job asked for previews
}

export interface QueueEvent {
  position: number; // 1 = next to run
  queueLength: number;
}

/** Per-request hooks and limits. Per-request state never lives on the shared model object. */
export interface JobContext {
  signal: AbortSignal; // abort = cancel; the runtime stops within one model step and rejects with CancelledError
  deadline?: number; // epoch ms; past it the runtime rejects with DeadlineError
  previews?: boolean;
  onQueue?: (e: QueueEvent) => void;
  onProgress?: (e: ProgressEvent) => void;
  onTextDelta?: (delta: string) => void; // chat/caption/ask text streaming
}

export interface GeneratedImage {
  image: RgbImage;
  seed: bigint;
  tokens: number[]; // K code ids in code order (index 0 = finest)
  plan?: string; // the layout the image was drawn from, when the package plans (docs/model-package.md, "Plans")
}

export type ChatPart = { kind: 'text'; text: string } | { kind: 'image'; image: RgbImage };
export interface ChatTurn {
  role: 'user' | 'assistant';
  parts: ChatPart[];
}
export interface ChatAnswer {
  text: string; // '' when the answer is an image
  image?: GeneratedImage;
  finishReason: 'end' | 'length' | 'image';
}

export interface ModelDescription {
  name: string;
  description: string;
  capabilities: string[];
  imageSize: number;
  tokensPerImage: number;
  codebookSize: number;
  tokenOrder: 'coarse_to_fine' | 'code_order';
  defaults: Omit<SamplingParams, 'seed'>; // steps 0 when the manifest sets sampler.use_renderer
  minSteps?: number; // accepted SamplingParams.steps: 0 when the package has a renderer, else sampler.min_steps
  maxSteps?: number;
  maxPromptTokens: number;
}

/** An answer about an image, with the model's caption of the image when it answered after captioning it. */
export interface Answer {
  text: string;
  caption?: string;
}

/** One loaded model package. All methods are safe to call concurrently; the runtime queues and batches. */
export interface ModelRuntime {
  readonly description: ModelDescription;
  caption(image: RgbImage, ctx: JobContext): Promise<string>;
  ask(image: RgbImage, question: string, ctx: JobContext): Promise<Answer>;
  generate(prompt: string, count: number, params: SamplingParams, ctx: JobContext): Promise<GeneratedImage[]>;
  edit(
    image: RgbImage,
    instruction: string,
    count: number,
    params: SamplingParams,
    ctx: JobContext,
  ): Promise<GeneratedImage[]>;
  chat(turns: ChatTurn[], params: SamplingParams, ctx: JobContext): Promise<ChatAnswer>;
  /** Replace image_a's codes at indices [from, to) by image_b's, then decode. */
  blend(
    a: RgbImage,
    b: RgbImage,
    range: { from: number; to: number },
    params: SamplingParams,
    ctx: JobContext,
  ): Promise<GeneratedImage>;
  encode(image: RgbImage, ctx: JobContext): Promise<number[]>;
  /** Decode code ids (code order); keep = number of coarsest codes kept (K = all). */
  decode(tokens: number[], keep: number, params: SamplingParams, ctx: JobContext): Promise<RgbImage>;
  /** Frames decoding the 1..K coarsest codes (or the given keep counts). */
  reveal(tokens: number[], params: SamplingParams, ctx: JobContext, keeps?: number[]): Promise<RgbImage[]>;
  /** Queue statistics for metrics and health. */
  stats(): { queued: number; running: number; maxQueue: number };
  close(): Promise<void>;
}

/** Errors the runtime throws; the server maps them to gRPC status codes in one table. */
export class RuntimeError extends Error {
  constructor(
    readonly kind:
      | 'invalid_argument'
      | 'resource_exhausted'
      | 'not_found'
      | 'unavailable'
      | 'cancelled'
      | 'deadline_exceeded'
      | 'internal',
    message: string,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}
