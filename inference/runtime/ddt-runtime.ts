/** ModelRuntime of one loaded package: validates requests, queues them, runs the tasks. */
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
} from './api.js';
import type { BatchCounters } from './batched-model.js';
import {
  checkCodes,
  checkSteps,
  decodeImages,
  decodeSteps,
  encodeImage,
  generateFromRows,
  imageNoise,
} from './image-tasks.js';
import type { JobControl } from './job-control.js';
import type { ModelParts } from './model-parts.js';
import { answerRow, editPlanRow, generatePlanRow, rowsFromPlan } from './plans.js';
import { ProgressReporter } from './progress.js';
import { createTokenRng, seedForImage } from './rng.js';
import type { Scheduler } from './scheduler.js';
import {
  buildChatRow,
  buildEditRows,
  buildGenerateRows,
  buildImageQuestionRow,
  buildUnconditionalImageRow,
} from './sequences.js';
import { answerText, captionText } from './text-tasks.js';

const MAX_IMAGES_PER_REQUEST = 16;

/**
 * What a chat's image answer is planned as (docs/model-package.md, "Plans"): the last user turn's text, as an
 * edit of the conversation's newest image (`source`: that image and its codes), or as a prompt when the
 * conversation has no image; null when that turn has no text (the image is then drawn directly after the chat).
 */
function chatImageRequest(
  turns: ChatTurn[],
  images: RgbImage[],
  codes: number[][],
): { text: string; source?: { image: RgbImage; codes: number[] } } | null {
  const last = turns.at(-1);
  const text = (last?.parts ?? [])
    .flatMap((x) => (x.kind === 'text' ? [x.text.trim()] : []))
    .filter((t) => t !== '')
    .join(' ');
  if (text === '') return null;
  const image = images.at(-1);
  return image === undefined ? { text } : { text, source: { image, codes: codes.at(-1)! } };
}

/** The request's plan, when there was one, on each of its images (the server sends it once per result). */
function withPlan(images: GeneratedImage[], plan: string | undefined): GeneratedImage[] {
  return plan === undefined ? images : images.map((image) => ({ ...image, plan }));
}

export class DdtRuntime implements ModelRuntime {
  readonly description: ModelDescription;

  constructor(
    private readonly parts: ModelParts,
    private readonly scheduler: Scheduler,
  ) {
    const m = parts.manifest;
    this.description = {
      name: m.name,
      description: m.description,
      capabilities: [...m.capabilities],
      imageSize: m.image.size,
      tokensPerImage: m.tokens.per_image,
      codebookSize: m.tokens.codebook_size,
      tokenOrder: m.tokens.order,
      defaults: {
        guidanceScale: m.generation.guidance_scale,
        temperature: m.generation.temperature,
        topK: m.generation.top_k,
        topP: m.generation.top_p,
        steps: m.sampler.use_renderer ? 0 : m.sampler.steps,
      },
      minSteps: m.graphs.renderer ? 0 : m.sampler.min_steps,
      maxSteps: m.sampler.max_steps,
      maxPromptTokens: m.prompting.max_prompt_tokens,
    };
  }

  /** Batching counters (model calls and rows) for metrics and tests. */
  get counters(): Readonly<BatchCounters> {
    return this.parts.model.counters;
  }

  async caption(image: RgbImage, ctx: JobContext): Promise<string> {
    const question = this.parts.manifest.prompting.caption_instruction;
    return this.answerAbout(image, question, ctx, false, async (job, progress, codes, row) => {
      return (await captionText(this.parts, row, codes, job, progress)).text;
    });
  }

  async ask(image: RgbImage, question: string, ctx: JobContext): Promise<Answer> {
    const p = this.parts;
    const byCaption = p.manifest.prompting.answer_template?.includes('{caption}') ?? false;
    return this.answerAbout(image, question, ctx, byCaption, async (job, progress, codes, plain) => {
      // `plain` is built either way: it checks the question against the prompt limit
      const asked = (await answerRow(p, codes, question, job, progress)) ?? { row: plain };
      const answer = await answerText(p, asked.row, createTokenRng(0n), job, progress, false);
      return { text: answer.text, ...(asked.caption === undefined ? {} : { caption: asked.caption }) };
    });
  }

  /**
   * A text answer about an image: queued, the image encoded, and `answer` given the row that asks
   * `question` about it; progress reports the image's caption first when the answer is read off it.
   */
  private answerAbout<T>(
    image: RgbImage,
    question: string,
    ctx: JobContext,
    captionFirst: boolean,
    answer: (job: JobControl, progress: ProgressReporter, codes: number[], row: number[]) => Promise<T>,
  ): Promise<T> {
    const p = this.parts;
    const steps = p.manifest.generation.max_new_text_tokens;
    return this.scheduler.run(ctx, async (job) => {
      const progress = new ProgressReporter(ctx, [
        ...(captionFirst ? [{ stage: 'caption' as const, steps }] : []),
        { stage: 'tokens', steps },
      ]);
      const codes = await encodeImage(p, image);
      job.throwIfStopped();
      return answer(
        job,
        progress,
        codes,
        buildImageQuestionRow(codes, question, p.tokenizer.encode, p.vocab),
      );
    });
  }

  async generate(
    prompt: string,
    count: number,
    params: SamplingParams,
    ctx: JobContext,
  ): Promise<GeneratedImage[]> {
    const p = this.parts;
    const rows = this.validateImageRequest(count, params, () =>
      buildGenerateRows(prompt, p.tokenizer.encode, p.vocab),
    );
    const planRow = generatePlanRow(p, prompt);
    return this.scheduler.run(ctx, async (job) => {
      const progress = this.imageProgress(ctx, params, planRow !== null);
      const planned = await rowsFromPlan(p, planRow, rows, job, progress, params);
      return withPlan(await generateFromRows(p, planned.rows, count, params, job, progress), planned.plan);
    });
  }

  async edit(
    image: RgbImage,
    instruction: string,
    count: number,
    params: SamplingParams,
    ctx: JobContext,
  ): Promise<GeneratedImage[]> {
    const p = this.parts;
    this.validateImageRequest(count, params, () =>
      buildEditRows([], instruction, p.tokenizer.encode, p.vocab),
    );
    const template = p.manifest.prompting.edit_plan_template;
    return this.scheduler.run(ctx, async (job) => {
      const progress = this.imageProgress(
        ctx,
        params,
        template !== undefined,
        template?.includes('{caption}'),
      );
      const codes = await encodeImage(p, image);
      job.throwIfStopped();
      const rows = buildEditRows(codes, instruction, p.tokenizer.encode, p.vocab);
      const planRow = await editPlanRow(p, codes, instruction, job, progress);
      const plan = await rowsFromPlan(p, planRow, rows, job, progress, params, image);
      return withPlan(await generateFromRows(p, plan.rows, count, params, job, progress), plan.plan);
    });
  }

  async chat(turns: ChatTurn[], params: SamplingParams, ctx: JobContext): Promise<ChatAnswer> {
    const p = this.parts;
    checkSteps(p, params.steps);
    buildChatRow(
      turns,
      turns.flatMap((t) => t.parts.filter((x) => x.kind === 'image').map(() => [])),
      p.tokenizer.encode,
      p.vocab,
    );
    return this.scheduler.run(ctx, async (job) => {
      const images = turns.flatMap((t) => t.parts.flatMap((x) => (x.kind === 'image' ? [x.image] : [])));
      const codes = await Promise.all(images.map((img) => encodeImage(p, img)));
      job.throwIfStopped();
      const row = buildChatRow(turns, codes, p.tokenizer.encode, p.vocab);
      const textProgress = new ProgressReporter(ctx, [
        { stage: 'tokens', steps: p.manifest.generation.max_new_text_tokens },
      ]);
      const answer = await answerText(p, row, createTokenRng(params.seed), job, textProgress, true);
      if (answer.finish !== 'image') return { text: answer.text, finishReason: answer.finish };
      const direct = { cond: [...row, p.vocab.special.boi], uncond: buildUnconditionalImageRow(p.vocab) };
      const request = chatImageRequest(turns, images, codes);
      const template = request?.source
        ? p.manifest.prompting.edit_plan_template
        : p.manifest.prompting.plan_template;
      const progress = this.imageProgress(
        ctx,
        params,
        request !== null && template !== undefined,
        request?.source !== undefined && template?.includes('{caption}'),
      );
      let planRow: number[] | null = null;
      if (request?.source) planRow = await editPlanRow(p, request.source.codes, request.text, job, progress);
      else if (request) planRow = generatePlanRow(p, request.text);
      const planned = await rowsFromPlan(p, planRow, direct, job, progress, params, request?.source?.image);
      const [image] = withPlan(
        await generateFromRows(p, planned.rows, 1, params, job, progress),
        planned.plan,
      );
      return { text: '', image: image!, finishReason: 'image' };
    });
  }

  async blend(
    a: RgbImage,
    b: RgbImage,
    range: { from: number; to: number },
    params: SamplingParams,
    ctx: JobContext,
  ): Promise<GeneratedImage> {
    const p = this.parts;
    const K = p.manifest.tokens.per_image;
    checkSteps(p, params.steps);
    if (
      !Number.isInteger(range.from) ||
      !Number.isInteger(range.to) ||
      range.from < 0 ||
      range.from > range.to ||
      range.to > K
    ) {
      throw new RuntimeError('invalid_argument', `blend range must satisfy 0 <= from <= to <= ${K}`);
    }
    return this.scheduler.run(ctx, async (job) => {
      const [codesA, codesB] = await Promise.all([encodeImage(p, a), encodeImage(p, b)]);
      const codes = codesA.map((c, j) => (j >= range.from && j < range.to ? codesB[j]! : c));
      const seed = seedForImage(params.seed, 0);
      const progress = new ProgressReporter(ctx, [{ stage: 'decode', steps: decodeSteps(params.steps) }]);
      const [image] = await decodeImages(
        p,
        [{ codes, keep: K, noise: imageNoise(p, seed) }],
        params.steps,
        job,
        progress,
      );
      return { image: image!, seed, tokens: codes };
    });
  }

  async encode(image: RgbImage, ctx: JobContext): Promise<number[]> {
    return this.scheduler.run(ctx, () => encodeImage(this.parts, image));
  }

  async decode(tokens: number[], keep: number, params: SamplingParams, ctx: JobContext): Promise<RgbImage> {
    const p = this.parts;
    this.validateDecode(tokens, [keep], params);
    return this.scheduler.run(ctx, async (job) => {
      const progress = new ProgressReporter(ctx, [{ stage: 'decode', steps: decodeSteps(params.steps) }]);
      const noise = imageNoise(p, seedForImage(params.seed, 0));
      const [image] = await decodeImages(p, [{ codes: tokens, keep, noise }], params.steps, job, progress);
      return image!;
    });
  }

  async reveal(
    tokens: number[],
    params: SamplingParams,
    ctx: JobContext,
    keeps?: number[],
  ): Promise<RgbImage[]> {
    const p = this.parts;
    const K = p.manifest.tokens.per_image;
    const frames = keeps ?? Array.from({ length: K }, (_, i) => i + 1);
    this.validateDecode(tokens, frames, params);
    return this.scheduler.run(ctx, (job) => {
      const progress = new ProgressReporter(ctx, [{ stage: 'reveal', steps: decodeSteps(params.steps) }]);
      const noise = imageNoise(p, seedForImage(params.seed, 0));
      const jobs = frames.map((keep) => ({ codes: tokens, keep, noise }));
      return decodeImages(p, jobs, params.steps, job, progress, 'reveal');
    });
  }

  stats(): { queued: number; running: number; maxQueue: number } {
    return this.scheduler.stats();
  }

  async close(): Promise<void> {
    this.scheduler.close();
    await this.parts.model.close();
  }

  private validateImageRequest<T>(count: number, params: SamplingParams, build: () => T): T {
    if (!Number.isInteger(count) || count < 1 || count > MAX_IMAGES_PER_REQUEST) {
      throw new RuntimeError(
        'invalid_argument',
        `count must be an integer in [1, ${MAX_IMAGES_PER_REQUEST}]`,
      );
    }
    checkSteps(this.parts, params.steps);
    if (!(params.temperature >= 0) || !(params.topP > 0 && params.topP <= 1) || !(params.topK >= 0)) {
      throw new RuntimeError('invalid_argument', 'need temperature >= 0, 0 < top_p <= 1, top_k >= 0');
    }
    return build();
  }

  private validateDecode(tokens: number[], keeps: number[], params: SamplingParams): void {
    const K = this.parts.manifest.tokens.per_image;
    checkCodes(this.parts, tokens);
    checkSteps(this.parts, params.steps);
    if (keeps.length === 0 || keeps.some((k) => !Number.isInteger(k) || k < 1 || k > K)) {
      throw new RuntimeError('invalid_argument', `keep counts must be integers in [1, ${K}]`);
    }
  }

  private imageProgress(
    ctx: JobContext,
    params: SamplingParams,
    planned = false,
    captioned = false,
  ): ProgressReporter {
    const m = this.parts.manifest;
    const text = m.generation.max_new_text_tokens;
    return new ProgressReporter(ctx, [
      ...(captioned ? [{ stage: 'caption' as const, steps: text }] : []),
      ...(planned ? [{ stage: 'plan' as const, steps: text }] : []),
      { stage: 'tokens', steps: m.tokens.per_image },
      { stage: 'decode', steps: decodeSteps(params.steps) },
    ]);
  }
}
