/** A scriptable InferenceClient for bot tests: records calls, replays events, can fail on demand. */
import sharp from 'sharp';
import type {
  ChatEvent,
  GeneratedImage,
  ImageData,
  ImageJobEvent,
  InferenceClient,
  ModelInfo,
} from '../../bot/inference/client.js';
import { InferenceError } from '../../bot/inference/client.js';

export async function solidPng(color: string, size = 32): Promise<ImageData> {
  const data = await sharp({ create: { width: size, height: size, channels: 3, background: color } })
    .png()
    .toBuffer();
  return { data: new Uint8Array(data), mimeType: 'image/png' };
}

export async function generated(color: string, seed = 7n): Promise<GeneratedImage> {
  return { image: await solidPng(color), seed, tokens: Array.from({ length: 16 }, (_, i) => i) };
}

export interface RecordedCall {
  method: string;
  request: unknown;
  signal?: AbortSignal;
}

export class FakeInference implements InferenceClient {
  readonly calls: RecordedCall[] = [];
  /** Events each image call yields (before its result); tests may replace it. */
  jobEvents: ImageJobEvent[] = [{ kind: 'queued', position: 2, queueLength: 3 }];
  /** Makes the next calls fail with this error. */
  failWith: InferenceError | undefined;
  chatAnswer: ChatEvent[] = [
    { kind: 'text', delta: 'It is red.' },
    { kind: 'done', text: 'It is red.', finishReason: 'end' },
  ];
  resultColor = '#00ff00';
  /** The plan the server sends with image results (none by default, as for a package that does not plan). */
  resultPlan: string | undefined;
  /** Resolved before an image job sends its result (lets tests hold a job open). */
  gate: Promise<void> = Promise.resolve();
  closed = false;

  private record(method: string, request: unknown, signal?: AbortSignal) {
    this.calls.push({ method, request, signal });
    if (this.failWith) throw this.failWith;
  }

  async getModelInfo(): Promise<ModelInfo> {
    this.record('getModelInfo', {});
    return {
      name: 'fake',
      capabilities: [],
      imageSize: 32,
      tokensPerImage: 16,
      maxPromptChars: 300,
      maxImageBytes: 0,
      maxImagePixels: 0,
    };
  }
  async caption(request: { image: ImageData }, o?: { signal?: AbortSignal }) {
    this.record('caption', request, o?.signal);
    return 'a red circle';
  }
  async ask(request: { image: ImageData; question: string }, o?: { signal?: AbortSignal }) {
    this.record('ask', request, o?.signal);
    return { answer: 'red', caption: 'a red circle at the center' };
  }
  async encode(request: { image: ImageData }, o?: { signal?: AbortSignal }) {
    this.record('encode', request, o?.signal);
    return Array.from({ length: 16 }, (_, i) => 100 + i);
  }
  generate(request: unknown, o?: { signal?: AbortSignal }) {
    return this.imageJob('generate', request, o?.signal, (request as { count?: number }).count ?? 1);
  }
  edit(request: unknown, o?: { signal?: AbortSignal }) {
    return this.imageJob('edit', request, o?.signal, 1);
  }
  blend(request: unknown, o?: { signal?: AbortSignal }) {
    return this.imageJob('blend', request, o?.signal, 1);
  }
  decode(request: unknown, o?: { signal?: AbortSignal }) {
    return this.imageJob('decode', request, o?.signal, 1);
  }
  async *chat(request: unknown, o?: { signal?: AbortSignal }): AsyncGenerator<ChatEvent> {
    this.record('chat', request, o?.signal);
    yield* this.chatAnswer;
  }
  close() {
    this.closed = true;
  }

  private async *imageJob(method: string, request: unknown, signal: AbortSignal | undefined, count: number) {
    this.record(method, request, signal);
    yield* this.jobEvents;
    await this.gate;
    if (signal?.aborted) throw new InferenceError('cancelled', 'cancelled');
    const images = await Promise.all(
      Array.from({ length: count }, (_, i) => generated(this.resultColor, BigInt(i + 1))),
    );
    yield {
      kind: 'result' as const,
      images,
      model: 'fake',
      ...(this.resultPlan ? { plan: this.resultPlan } : {}),
    };
  }
}
