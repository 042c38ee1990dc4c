/**
 * TypeScript shapes of the ddt.v1 messages as @grpc/proto-loader produces them with LOADER_OPTIONS
 * (./load.ts). Written by hand to stay in one readable file; keep in step with
 * proto/ddt/v1/inference.proto. u64 fields are decimal strings; unset `optional` fields are absent.
 */

export type OutputFormat = 'OUTPUT_FORMAT_UNSPECIFIED' | 'OUTPUT_FORMAT_PNG' | 'OUTPUT_FORMAT_WEBP';
export type AnimationFormat =
  | 'ANIMATION_FORMAT_UNSPECIFIED'
  | 'ANIMATION_FORMAT_WEBP'
  | 'ANIMATION_FORMAT_GIF';
export type Role = 'ROLE_UNSPECIFIED' | 'ROLE_USER' | 'ROLE_ASSISTANT';

export interface Image {
  data: Buffer | Uint8Array;
  mime_type: string;
}

/** Optional sampling overrides shared by the image-producing requests. */
export interface SamplingFields {
  seed?: string;
  guidance_scale?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  steps?: number;
}

export type GetModelInfoRequest = Record<string, never>;

export interface SamplingDefaults {
  guidance_scale: number;
  temperature: number;
  top_k: number;
  top_p: number;
  steps: number;
}

export interface ModelInfo {
  name: string;
  capabilities: string[];
  image_size: number;
  tokens_per_image: number;
  codebook_size: number;
  defaults: SamplingDefaults | null;
  token_order: string;
  description: string;
  max_prompt_chars: number;
  max_image_bytes: string;
  max_image_pixels: number;
  min_steps: number;
  max_steps: number;
}

export interface GetModelInfoResponse {
  models: ModelInfo[];
  default_model: string;
  server_version: string;
  max_queue: number;
}

export interface CaptionRequest {
  image: Image | null;
  model: string;
}
export interface CaptionResponse {
  text: string;
  model: string;
}

export interface AskRequest {
  image: Image | null;
  question: string;
  model: string;
}
export interface AskResponse {
  answer: string;
  model: string;
  caption?: string; // the model's caption of the image, when it answered after captioning it
}

interface ImageJobFields extends SamplingFields {
  num_images: number;
  previews: boolean;
  reveal: boolean;
  model: string;
  output_format: OutputFormat;
  animation_format: AnimationFormat;
}

export interface GenerateRequest extends ImageJobFields {
  prompt: string;
}

export interface EditRequest extends ImageJobFields {
  image: Image | null;
  instruction: string;
}

export interface BlendRequest {
  image_a: Image | null;
  image_b: Image | null;
  from_index: number;
  to_index: number;
  amount: number;
  seed?: string;
  steps?: number;
  previews: boolean;
  reveal: boolean;
  model: string;
  output_format: OutputFormat;
  animation_format: AnimationFormat;
}

export interface EncodeRequest {
  image: Image | null;
  model: string;
}
export interface EncodeResponse {
  tokens: number[];
  model: string;
  token_order: string;
}

export interface DecodeRequest {
  tokens: number[];
  keep: number;
  seed?: string;
  steps?: number;
  reveal: boolean;
  model: string;
  output_format: OutputFormat;
  animation_format: AnimationFormat;
}

export interface Queued {
  position: number;
  queue_length: number;
}

export interface Progress {
  fraction: number;
  stage: string;
  preview: Image | null;
  step: number;
  total_steps: number;
}

export interface Reveal {
  frames: Image[];
  animation: Image | null;
  tokens_kept: number[];
}

export interface GeneratedImage {
  image: Image | null;
  seed: string;
  tokens: number[];
  reveal: Reveal | null;
}

export interface ImageResult {
  images: GeneratedImage[];
  model: string;
  plan?: string;
}

export type ImageJobEvent =
  | { request_id: string; event: 'queued'; queued: Queued }
  | { request_id: string; event: 'progress'; progress: Progress }
  | { request_id: string; event: 'result'; result: ImageResult };

export interface Part {
  content?: 'text' | 'image';
  text?: string;
  image?: Image | null;
}

export interface Turn {
  role: Role;
  parts: Part[];
}

export interface ChatRequest extends SamplingFields {
  turns: Turn[];
  previews: boolean;
  model: string;
  output_format: OutputFormat;
}

export interface ChatDone {
  text: string;
  image: GeneratedImage | null;
  finish_reason: string;
}

export type ChatEvent =
  | { request_id: string; event: 'queued'; queued: Queued }
  | { request_id: string; event: 'progress'; progress: Progress }
  | { request_id: string; event: 'text_delta'; text_delta: string }
  | { request_id: string; event: 'done'; done: ChatDone };

/** What a caller must send: every field optional, as protobuf allows (unset = default). */
export type RequestInput<T> = { [K in keyof T]?: T[K] extends Image | null ? Image : T[K] };
