/**
 * A deterministic stand-in for the ONNX runtime: same inputs + seed -> same pixels and tokens. It runs
 * jobs one at a time through a bounded queue, one timer tick per "model step", and honours signal and
 * deadline between steps like the real runtime, so the server's streaming, cancellation and error
 * paths can be tested without model files.
 */
import {
  type Answer,
  type ChatAnswer,
  type ChatTurn,
  type GeneratedImage,
  type JobContext,
  type ModelDescription,
  type ModelRuntime,
  type RgbImage,
  RuntimeError,
  type SamplingParams,
} from '../../../inference/runtime/api.js';

export interface FakeRuntimeOptions {
  name?: string;
  imageSize?: number;
  stepMs?: number;
  steps?: number;
  maxQueue?: number;
}

/** FNV-1a over strings and numbers: a small stable hash for deterministic fake outputs. */
export function hashOf(...parts: (string | number | bigint)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function solidImage(size: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width: size, height: size, data };
}

const K = 16;
const CODEBOOK = 512;

export class FakeRuntime implements ModelRuntime {
  readonly description: ModelDescription;
  /** Everything the runtime was handed, for assertions. */
  readonly received: { method: string; images: RgbImage[]; text?: string; params?: SamplingParams }[] = [];
  /** Model steps actually executed, per job id; shows whether a cancelled job kept computing. */
  stepsRun = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly opts: Required<FakeRuntimeOptions>;

  constructor(options: FakeRuntimeOptions = {}) {
    this.opts = { name: 'fake', imageSize: 32, stepMs: 2, steps: 4, maxQueue: 8, ...options };
    this.description = {
      name: this.opts.name,
      description: 'deterministic fake for server tests',
      capabilities: ['caption', 'ask', 'generate', 'edit', 'chat', 'blend', 'encode', 'decode'],
      imageSize: this.opts.imageSize,
      tokensPerImage: K,
      codebookSize: CODEBOOK,
      tokenOrder: 'coarse_to_fine',
      defaults: { guidanceScale: 3, temperature: 1, topK: 0, topP: 1, steps: 10 },
      maxPromptTokens: 64,
    };
  }

  private async acquire(ctx: JobContext): Promise<void> {
    if (this.running === 0) {
      this.running = 1;
      return;
    }
    if (this.waiting.length >= this.opts.maxQueue)
      throw new RuntimeError('resource_exhausted', 'queue is full');
    ctx.onQueue?.({ position: this.waiting.length + 1, queueLength: this.waiting.length + 1 });
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running = 0;
  }

  private checkStop(ctx: JobContext): void {
    if (ctx.signal.aborted) throw new RuntimeError('cancelled', 'cancelled');
    if (ctx.deadline !== undefined && Date.now() > ctx.deadline)
      throw new RuntimeError('deadline_exceeded', 'deadline passed');
  }

  /** Runs `steps` fake model steps with progress, then returns `make()`. */
  private async run<T>(ctx: JobContext, stage: 'tokens' | 'decode', make: () => T): Promise<T> {
    this.checkStop(ctx);
    await this.acquire(ctx);
    try {
      for (let step = 1; step <= this.opts.steps; step++) {
        this.checkStop(ctx);
        await new Promise((r) => setTimeout(r, this.opts.stepMs));
        this.stepsRun++;
        const preview = ctx.previews ? solidImage(this.opts.imageSize, [step * 10, 0, 0]) : undefined;
        ctx.onProgress?.({
          fraction: step / this.opts.steps,
          stage,
          step,
          totalSteps: this.opts.steps,
          preview,
        });
      }
      this.checkStop(ctx);
      return make();
    } finally {
      this.release();
    }
  }

  private picture(...key: (string | number | bigint)[]): GeneratedImage {
    const h = hashOf(...key);
    const image = solidImage(this.opts.imageSize, [h & 255, (h >>> 8) & 255, (h >>> 16) & 255]);
    const tokens = Array.from({ length: K }, (_, i) => hashOf(h, i) % CODEBOOK);
    return { image, seed: 0n, tokens };
  }

  private meanColour(img: RgbImage): string {
    const sum = [0, 0, 0];
    for (let i = 0; i < img.data.length; i++) sum[i % 3] = (sum[i % 3] ?? 0) + (img.data[i] ?? 0);
    return sum.map((s) => Math.round(s / (img.width * img.height))).join(',');
  }

  caption(image: RgbImage, ctx: JobContext): Promise<string> {
    this.received.push({ method: 'caption', images: [image] });
    return this.run(ctx, 'tokens', () => {
      const text = `an image with mean colour ${this.meanColour(image)}`;
      for (const word of text.split(' ')) ctx.onTextDelta?.(`${word} `);
      return text;
    });
  }

  ask(image: RgbImage, question: string, ctx: JobContext): Promise<Answer> {
    this.received.push({ method: 'ask', images: [image], text: question });
    return this.run(ctx, 'tokens', () => ({
      text: `answer to "${question}": ${this.meanColour(image)}`,
      // a model that reads its answers off a caption of the image
      ...(question.startsWith('read ') ? { caption: `a caption of ${this.meanColour(image)}` } : {}),
    }));
  }

  generate(
    prompt: string,
    count: number,
    params: SamplingParams,
    ctx: JobContext,
  ): Promise<GeneratedImage[]> {
    this.received.push({ method: 'generate', images: [], text: prompt, params });
    return this.run(ctx, 'tokens', () =>
      Array.from({ length: count }, (_, i) => ({
        ...this.picture(prompt, params.seed + BigInt(i)),
        seed: params.seed + BigInt(i),
      })),
    );
  }

  edit(image: RgbImage, instruction: string, count: number, params: SamplingParams, ctx: JobContext) {
    this.received.push({ method: 'edit', images: [image], text: instruction, params });
    return this.run(ctx, 'tokens', () =>
      Array.from({ length: count }, (_, i) => ({
        ...this.picture(instruction, this.meanColour(image), params.seed + BigInt(i)),
        seed: params.seed + BigInt(i),
        plan: `after ${instruction}`, // as a planning package: the edited image's caption
      })),
    );
  }

  chat(turns: ChatTurn[], params: SamplingParams, ctx: JobContext): Promise<ChatAnswer> {
    this.received.push({
      method: 'chat',
      images: turns.flatMap((t) => t.parts.flatMap((p) => (p.kind === 'image' ? [p.image] : []))),
      params,
    });
    const last =
      turns
        .at(-1)
        ?.parts.map((p) => (p.kind === 'text' ? p.text : '[image]'))
        .join(' ') ?? '';
    return this.run(ctx, 'tokens', () => {
      if (last.startsWith('draw'))
        return {
          text: '',
          image: { ...this.picture(last, params.seed), seed: params.seed },
          finishReason: 'image',
        };
      const text = `you said ${last}`;
      for (const word of text.split(' ')) ctx.onTextDelta?.(`${word} `);
      return { text, finishReason: 'end' };
    });
  }

  blend(
    a: RgbImage,
    b: RgbImage,
    range: { from: number; to: number },
    params: SamplingParams,
    ctx: JobContext,
  ) {
    this.received.push({ method: 'blend', images: [a, b], text: `${range.from}-${range.to}`, params });
    return this.run(ctx, 'decode', () => ({
      ...this.picture(this.meanColour(a), this.meanColour(b), range.from, range.to),
      seed: params.seed,
    }));
  }

  encode(image: RgbImage, ctx: JobContext): Promise<number[]> {
    this.received.push({ method: 'encode', images: [image] });
    return this.run(ctx, 'tokens', () => this.picture(this.meanColour(image)).tokens);
  }

  decode(tokens: number[], keep: number, params: SamplingParams, ctx: JobContext): Promise<RgbImage> {
    this.received.push({ method: 'decode', images: [], text: `${keep}`, params });
    return this.run(ctx, 'decode', () => this.picture(tokens.join(','), keep, params.seed).image);
  }

  reveal(tokens: number[], params: SamplingParams, ctx: JobContext, keeps?: number[]): Promise<RgbImage[]> {
    const counts = keeps ?? Array.from({ length: K }, (_, i) => i + 1);
    return this.run(ctx, 'decode', () =>
      counts.map((k) => this.picture(tokens.join(','), k, params.seed).image),
    );
  }

  stats() {
    return { queued: this.waiting.length, running: this.running, maxQueue: this.opts.maxQueue };
  }

  async close(): Promise<void> {}
}
