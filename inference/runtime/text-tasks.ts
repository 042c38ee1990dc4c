/** Text-producing work of one request: answers streamed token by token (caption, ask, chat). */
import { RuntimeError } from './api.js';
import type { JobControl } from './job-control.js';
import type { ModelParts } from './model-parts.js';
import type { ProgressReporter } from './progress.js';
import type { SplitMix64 } from './rng.js';
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
  const m = parts.manifest;
  const maxNew = m.generation.max_new_text_tokens;
  if (row.length + maxNew > m.prompting.max_sequence) {
    throw new RuntimeError(
      'invalid_argument',
      `input too long: the model's sequence limit is ${m.prompting.max_sequence}`,
    );
  }
  let sent = '';
  const stream = new TextStream({
    row,
    firstMask: allowImage ? parts.masks.answerStart : parts.masks.text,
    textMask: parts.masks.text,
    endId: m.vocab.special.end,
    boiId: m.vocab.special.boi,
    maxNewTokens: maxNew,
    sampling: { temperature: m.generation.text_temperature, topK: 0, topP: 1 },
    rng,
    job,
    onToken: (ids) => {
      progress.report('tokens', ids.length);
      const text = parts.tokenizer.decode(ids);
      const delta = text.startsWith(sent) ? text.slice(sent.length) : text;
      sent = text;
      if (delta !== '') job.ctx.onTextDelta?.(delta);
    },
  });
  await parts.model.decode(stream);
  return { text: parts.tokenizer.decode(stream.ids), finish: stream.finish ?? 'end' };
}
