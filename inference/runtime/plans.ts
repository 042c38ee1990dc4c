/**
 * Planned image requests (docs/model-package.md, "Plans"). With prompting.plan_template, Generate first has
 * the model write a layout of the prompt ("a red square below a yellow circle" -> "a red square at the
 * bottom and a yellow circle at the center") and draws the image from that layout; with
 * prompting.edit_plan_template, Edit has it write the caption of the edited image and draws from that. The
 * bundled model draws a stated layout far more reliably than it chooses one while drawing. With
 * prompting.answer_template, Ask has it caption the image and answers the question in text after the caption.
 */
import type { RgbImage } from './api.js';
import type { ImageRows } from './image-tasks.js';
import type { JobControl } from './job-control.js';
import type { ModelParts } from './model-parts.js';
import type { ProgressReporter } from './progress.js';
import { seedForPlan } from './rng.js';
import { buildGenerateRows, buildImageQuestionRow } from './sequences.js';
import { captionText, GREEDY_PLAN, type PlanSampling, planText } from './text-tasks.js';

/** A template with its one placeholder ("{prompt}", "{instruction}") replaced by the user's text. */
export function fillTemplate(template: string, placeholder: string, value: string): string {
  return template.split(`{${placeholder}}`).join(value.trim());
}

/** The package's sequence vocabulary without the prompt limit: for the model's own text and our templates. */
function unlimited(parts: ModelParts) {
  return { ...parts.vocab, maxPromptTokens: Number.POSITIVE_INFINITY };
}

/** `<bos> <user> {text} <assistant>`: a text-only question whose answer is a plan. */
function textRow(parts: ModelParts, text: string): number[] {
  const s = parts.vocab.special;
  return [s.bos, s.user, ...parts.tokenizer.encode(text), s.assistant];
}

/** The row that asks for a text-to-image prompt's plan, or null when the package does not plan. */
export function generatePlanRow(parts: ModelParts, prompt: string): number[] | null {
  const template = parts.manifest.prompting.plan_template;
  if (template === undefined) return null;
  // The user's prompt was checked against max_prompt_tokens on its own; the template's few words are ours.
  return textRow(parts, fillTemplate(template, 'prompt', prompt));
}

/**
 * The row that asks for the caption of an edited image, or null when the package does not plan edits. With
 * "{caption}" in the template the image is captioned first (as Caption does: reranked when the package
 * reranks captions) and the row is that text alone; otherwise the row starts with the image.
 */
export async function editPlanRow(
  parts: ModelParts,
  codes: number[],
  instruction: string,
  job: JobControl,
  progress: ProgressReporter,
): Promise<number[] | null> {
  const template = parts.manifest.prompting.edit_plan_template;
  if (template === undefined) return null;
  return (await templatedRow(parts, template, 'instruction', instruction, codes, job, progress)).row;
}

/**
 * The row a question about an image is answered after (docs/model-package.md, "Answers by caption"), with the
 * caption it was asked after, or null when the package answers from the image (no prompting.answer_template).
 */
export async function answerRow(
  parts: ModelParts,
  codes: number[],
  question: string,
  job: JobControl,
  progress: ProgressReporter,
): Promise<{ row: number[]; caption?: string } | null> {
  const template = parts.manifest.prompting.answer_template;
  if (template === undefined) return null;
  return templatedRow(parts, template, 'question', question, codes, job, progress);
}

/**
 * A template filled with the user's text: after the image when the template has no "{caption}", else (the
 * image captioned first, as Caption does) the caption and the user's text, in text alone.
 */
async function templatedRow(
  parts: ModelParts,
  template: string,
  placeholder: string,
  value: string,
  codes: number[],
  job: JobControl,
  progress: ProgressReporter,
): Promise<{ row: number[]; caption?: string }> {
  // The user's text alone was checked against max_prompt_tokens; the template's words (and the caption,
  // the model's own text) are not user input.
  const vocab = unlimited(parts);
  if (!template.includes('{caption}')) {
    const question = fillTemplate(template, placeholder, value);
    return { row: buildImageQuestionRow(codes, question, parts.tokenizer.encode, vocab) };
  }
  const captionRow = buildImageQuestionRow(
    codes,
    parts.manifest.prompting.caption_instruction,
    parts.tokenizer.encode,
    vocab,
  );
  const caption = await captionText(parts, captionRow, codes, job, progress, 'caption');
  job.throwIfStopped();
  // the caption first: the user's text may hold any text, "{caption}" too
  const text = fillTemplate(fillTemplate(template, 'caption', caption.text), placeholder, value);
  return { row: textRow(parts, text), caption: caption.text };
}

/**
 * The rows an image is drawn from: a text-to-image request of the plan the model writes after `planRow`
 * (its images reranked by the plan), or `fallback` when there is no plan row or the plan came out empty.
 * `source`: the plan is the caption of the image to draw, an Edit of `source` (not a layout in the prompt's
 * order); its candidates may be scored by the caption and by closeness to the source (image-rerank.ts).
 * The plan is decoded as planSampling says for the request's `params`.
 */
export async function rowsFromPlan(
  parts: ModelParts,
  planRow: number[] | null,
  fallback: ImageRows,
  job: JobControl,
  progress: ProgressReporter,
  params: { temperature: number; seed: bigint },
  source?: RgbImage,
): Promise<{ rows: ImageRows; plan?: string }> {
  if (planRow === null) return { rows: fallback };
  const plan = await planText(parts, planRow, job, progress, 'plan', planSampling(params, source));
  job.throwIfStopped();
  if (plan.trim() === '') return { rows: fallback };
  // The plan is the model's own text (at most max_new_text_tokens), not user input: no prompt limit.
  const rows = buildGenerateRows(plan, parts.tokenizer.encode, unlimited(parts));
  return { rows: source ? { ...rows, captioned: true, source } : rows, plan };
}

/**
 * How a plan is decoded. A Generate's (a layout of the prompt): at the request's temperature, from its seed.
 * At temperature 0 (the bundled default) it is greedy, so a request is answered as before; above it, new
 * seeds get new layouts (positions the prompt leaves open), where image tokens sampled from one greedy plan
 * mostly reranked to the same picture (the bot's Re-roll). An Edit's (with a `source`), the edited image's
 * caption, stays greedy: it must say what the instruction asks, not something like it.
 */
function planSampling(params: { temperature: number; seed: bigint }, source?: RgbImage): PlanSampling {
  return source ? GREEDY_PLAN : { temperature: params.temperature, seed: seedForPlan(params.seed) };
}
