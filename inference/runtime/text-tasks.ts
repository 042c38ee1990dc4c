/** Text-producing work of one request: answers streamed token by token (caption, ask, chat). */
import { RuntimeError, type Stage } from './api.js';
import { bestIndex, captionScores, refineCaption } from './caption-refine.js';
import type { JobControl } from './job-control.js';
import type { ModelParts } from './model-parts.js';
import type { ProgressReporter } from './progress.js';
import { createTokenRng, type SplitMix64 } from './rng.js';
import { firstOfEach } from './row-dedup.js';
import { type TextFinish, TextStream } from './token-streams.js';

export interface TextAnswer {
  text: string;
  finish: TextFinish;
}

/**
 * Decodes a text answer after `row` (which ends with <assistant>). Text sampling uses the manifest's
 * generation.text_temperature (0 = greedy) without top-k/top-p. With `allowImage`, a first <boi>
 * ends the answer with finish 'image'.
 */
export async function answerText(
  parts: ModelParts,
  row: number[],
  rng: SplitMix64,
  job: JobControl,
  progress: ProgressReporter,
  allowImage: boolean,
): Promise<TextAnswer> {
  let sent = '';
  const stream = textStream(
    parts,
    row,
    parts.manifest.generation.text_temperature,
    rng,
    job,
    allowImage,
    (ids) => {
      progress.report('tokens', ids.length);
      const text = parts.tokenizer.decode(ids);
      const delta = text.startsWith(sent) ? text.slice(sent.length) : text;
      sent = text;
      if (delta !== '') job.ctx.onTextDelta?.(delta);
    },
  );
  await parts.model.decode(stream);
  return { text: parts.tokenizer.decode(stream.ids), finish: stream.finish ?? 'end' };
}

/**
 * A caption by self-reranking: the greedy answer and generation.caption_candidates answers sampled at
 * generation.caption_candidate_temperature (candidate i seeded i, from 1), and of the distinct ones the one
 * with the highest score (caption-refine.ts, captionScores; ties: the earlier), all scored in one forward
 * pass; then, with generation.caption_refine, refined (refineCaption). Held-out captions of the bundled
 * model fully right: 0.660 greedy, 0.767 reranked by log p(image | caption) alone, 0.873 with the caption's
 * own likelihood and refinement (training/ddt/presets.py). The candidates decode side by side; the chosen
 * text is sent as one delta; at stage 'caption' (the first step of a planned edit or answer, plans.ts) it
 * is not sent.
 */
export async function captionText(
  parts: ModelParts,
  row: number[],
  codes: number[],
  job: JobControl,
  progress: ProgressReporter,
  stage: 'tokens' | 'caption' = 'tokens',
): Promise<TextAnswer> {
  const g = parts.manifest.generation;
  if (g.caption_candidates === 0 && g.caption_refine === null) {
    if (stage === 'tokens') return answerText(parts, row, createTokenRng(0n), job, progress, false);
    return { text: await planText(parts, row, job, progress, stage), finish: 'end' };
  }
  const greedy = textStream(parts, row, 0, createTokenRng(0n), job, false, (ids) =>
    progress.report(stage, ids.length),
  );
  const sampled = Array.from({ length: g.caption_candidates }, (_, i) =>
    textStream(parts, row, g.caption_candidate_temperature, createTokenRng(BigInt(i + 1)), job, false),
  );
  const streams = [greedy, ...sampled];
  await Promise.all(streams.map((s) => parts.model.decode(s)));
  const distinct = firstOfEach(streams, (s) => s.ids);
  job.throwIfStopped();
  const scores = await captionScores(
    parts,
    row,
    codes,
    distinct.map((s) => s.ids),
  );
  job.throwIfStopped();
  const best = bestIndex(scores);
  const ids = await refineCaption(parts, row, codes, distinct[best]!.ids, scores[best]!, job);
  const text = parts.tokenizer.decode(ids);
  if (text !== '' && stage === 'tokens') job.ctx.onTextDelta?.(text);
  return { text, finish: distinct[best]!.finish ?? 'end' };
}

/** How a plan's text is decoded: greedy (temperature 0, the default), or sampled from `seed`'s generator. */
export interface PlanSampling {
  temperature: number;
  seed: bigint;
}

export const GREEDY_PLAN: PlanSampling = { temperature: 0, seed: 0n };

/**
 * A plan (docs/model-package.md, "Plans"): the greedy text after `row`, reported as `stage` and not streamed
 * to the client as an answer (it is the first half of an image request, not the reply).
 */
export async function planText(
  parts: ModelParts,
  row: number[],
  job: JobControl,
  progress: ProgressReporter,
  stage: Stage = 'plan',
  sampling: PlanSampling = GREEDY_PLAN,
): Promise<string> {
  const rng = createTokenRng(sampling.seed);
  const stream = textStream(parts, row, sampling.temperature, rng, job, false, (ids) =>
    progress.report(stage, ids.length),
  );
  await parts.model.decode(stream);
  return parts.tokenizer.decode(stream.ids);
}

function textStream(
  parts: ModelParts,
  row: number[],
  temperature: number,
  rng: SplitMix64,
  job: JobControl,
  allowImage: boolean,
  onToken?: (ids: number[]) => void,
): TextStream {
  const m = parts.manifest;
  const maxNew = m.generation.max_new_text_tokens;
  if (row.length + maxNew > m.prompting.max_sequence) {
    throw new RuntimeError(
      'invalid_argument',
      `input too long: the model's sequence limit is ${m.prompting.max_sequence}`,
    );
  }
  return new TextStream({
    row,
    firstMask: allowImage ? parts.masks.answerStart : parts.masks.text,
    textMask: parts.masks.text,
    endId: m.vocab.special.end,
    boiId: m.vocab.special.boi,
    maxNewTokens: maxNew,
    sampling: { temperature, topK: 0, topP: 1 },
    rng,
    job,
    onToken,
  });
}
