/** Conversions between proto-loader objects (ddt.v1, longs as strings, oneofs named) and client types. */
import { status } from '@grpc/grpc-js';
import {
  type ChatEvent,
  type ChatTurn,
  type GeneratedImage,
  type ImageData,
  type ImageJobEvent,
  InferenceError,
  type InferenceErrorKind,
  type ModelInfo,
  type ProgressEvent,
  type SamplingOverrides,
} from './client.js';

// Loose shapes of what proto-loader hands back; every field may be missing on the wire.
export interface ProtoImage {
  data?: Buffer | Uint8Array;
  mimeType?: string;
}
interface ProtoGenerated {
  image?: ProtoImage | null;
  seed?: string | number;
  tokens?: number[];
  reveal?: { frames?: ProtoImage[]; animation?: ProtoImage | null; tokensKept?: number[] } | null;
}
interface ProtoProgress {
  fraction?: number;
  stage?: string;
  preview?: ProtoImage | null;
  step?: number;
  totalSteps?: number;
}
interface ProtoQueued {
  position?: number;
  queueLength?: number;
}
export interface ProtoImageJobEvent {
  event?: string;
  queued?: ProtoQueued;
  progress?: ProtoProgress;
  result?: { images?: ProtoGenerated[]; model?: string; plan?: string };
}
export interface ProtoChatEvent {
  event?: string;
  queued?: ProtoQueued;
  progress?: ProtoProgress;
  textDelta?: string;
  done?: { text?: string; image?: ProtoGenerated | null; finishReason?: string };
}

export function toProtoImage(image: ImageData): ProtoImage {
  return { data: Buffer.from(image.data), mimeType: image.mimeType ?? '' };
}

function fromProtoImage(image: ProtoImage | null | undefined): ImageData | undefined {
  if (!image?.data || image.data.length === 0) return undefined;
  return { data: new Uint8Array(image.data), mimeType: image.mimeType || undefined };
}

/** Only the sampling fields that were set: proto3 `optional` means "take the model default" when absent. */
export function toProtoSampling(s: SamplingOverrides): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (s.seed !== undefined) out.seed = s.seed.toString();
  if (s.guidanceScale !== undefined) out.guidanceScale = s.guidanceScale;
  if (s.temperature !== undefined) out.temperature = s.temperature;
  if (s.topK !== undefined) out.topK = s.topK;
  if (s.topP !== undefined) out.topP = s.topP;
  if (s.steps !== undefined) out.steps = s.steps;
  return out;
}

export function toProtoTurns(turns: ChatTurn[]): unknown[] {
  return turns.map((t) => ({
    role: t.role === 'user' ? 'ROLE_USER' : 'ROLE_ASSISTANT',
    parts: t.parts.map((p) => (p.kind === 'text' ? { text: p.text } : { image: toProtoImage(p.image) })),
  }));
}

function fromProtoGenerated(g: ProtoGenerated): GeneratedImage {
  const image = fromProtoImage(g.image);
  if (!image) throw new InferenceError('internal', 'server returned a result without image data');
  const frames = (g.reveal?.frames ?? []).map(fromProtoImage).filter((f): f is ImageData => f !== undefined);
  return {
    image,
    seed: BigInt(g.seed ?? 0),
    tokens: g.tokens ?? [],
    reveal:
      g.reveal && frames.length > 0
        ? { frames, animation: fromProtoImage(g.reveal.animation), tokensKept: g.reveal.tokensKept ?? [] }
        : undefined,
  };
}

function fromProtoProgress(p: ProtoProgress): ProgressEvent {
  return {
    kind: 'progress',
    fraction: p.fraction ?? 0,
    stage: p.stage ?? '',
    step: p.step ?? 0,
    totalSteps: p.totalSteps ?? 0,
    preview: fromProtoImage(p.preview),
  };
}

export function fromProtoImageJobEvent(e: ProtoImageJobEvent): ImageJobEvent | undefined {
  if (e.event === 'queued' && e.queued)
    return { kind: 'queued', position: e.queued.position ?? 0, queueLength: e.queued.queueLength ?? 0 };
  if (e.event === 'progress' && e.progress) return fromProtoProgress(e.progress);
  if (e.event === 'result' && e.result)
    return {
      kind: 'result',
      images: (e.result.images ?? []).map(fromProtoGenerated),
      model: e.result.model ?? '',
      ...(e.result.plan ? { plan: e.result.plan } : {}),
    };
  return undefined; // unknown event from a newer server: ignore
}

export function fromProtoChatEvent(e: ProtoChatEvent): ChatEvent | undefined {
  if (e.event === 'queued' && e.queued)
    return { kind: 'queued', position: e.queued.position ?? 0, queueLength: e.queued.queueLength ?? 0 };
  if (e.event === 'progress' && e.progress) return fromProtoProgress(e.progress);
  if (e.event === 'textDelta') return { kind: 'text', delta: e.textDelta ?? '' };
  if (e.event === 'done' && e.done)
    return {
      kind: 'done',
      text: e.done.text ?? '',
      image: e.done.image?.image ? fromProtoGenerated(e.done.image) : undefined,
      finishReason: e.done.finishReason ?? '',
    };
  return undefined;
}

interface ProtoModelInfo {
  name?: string;
  capabilities?: string[];
  imageSize?: number;
  tokensPerImage?: number;
  maxPromptChars?: number;
  maxImageBytes?: string | number;
  maxImagePixels?: number;
}

export function fromProtoModelInfo(r: { models?: ProtoModelInfo[]; defaultModel?: string }): ModelInfo {
  const model = r.models?.find((m) => m.name === r.defaultModel) ?? r.models?.[0];
  if (!model) throw new InferenceError('unavailable', 'server has no model loaded');
  return {
    name: model.name ?? '',
    capabilities: model.capabilities ?? [],
    imageSize: model.imageSize ?? 0,
    tokensPerImage: model.tokensPerImage ?? 0,
    maxPromptChars: model.maxPromptChars ?? 0,
    maxImageBytes: Number(model.maxImageBytes ?? 0),
    maxImagePixels: model.maxImagePixels ?? 0,
  };
}

/** One table from gRPC status codes to the kinds of failure the bot tells users about. */
const KIND_BY_STATUS: Partial<Record<status, InferenceErrorKind>> = {
  [status.UNAVAILABLE]: 'unavailable',
  [status.RESOURCE_EXHAUSTED]: 'busy',
  [status.INVALID_ARGUMENT]: 'invalid',
  [status.FAILED_PRECONDITION]: 'invalid',
  [status.OUT_OF_RANGE]: 'invalid',
  [status.NOT_FOUND]: 'invalid',
  [status.DEADLINE_EXCEEDED]: 'timeout',
  [status.CANCELLED]: 'cancelled',
  [status.UNAUTHENTICATED]: 'unauthenticated',
  [status.PERMISSION_DENIED]: 'unauthenticated',
};

export function toInferenceError(err: unknown): InferenceError {
  if (err instanceof InferenceError) return err;
  const e = err as { code?: number; details?: string; message?: string };
  const message = e.details || e.message || 'unknown error';
  let kind = (e.code !== undefined ? KIND_BY_STATUS[e.code as status] : undefined) ?? 'internal';
  // grpc-js reports a message over the size limit as RESOURCE_EXHAUSTED too; that is not "busy".
  if (kind === 'busy' && /larger than max/i.test(message)) kind = 'too_large';
  return new InferenceError(kind, message);
}
