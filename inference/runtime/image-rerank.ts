/**
 * Images by self-reranking (docs/model-package.md): each generated image's own codes and
 * generation.image_candidates more sampled at generation.image_candidate_temperature, and of the distinct
 * ones the codes under which the model's inverse direction (image in, prompting.prompt_instruction, a prompt
 * out) finds the user's prompt most likely, plus generation.image_candidate_forward_weight times the
 * codes' own log-probability under the prompt. Held-out text-to-image prompts of the bundled model fully right:
 * see its MODEL_CARD.md (eval.json t2i against t2i_without_reranking).
 */
import type { JobControl } from './job-control.js';
import type { ModelParts } from './model-parts.js';
import { firstOfEach } from './row-dedup.js';
import { codesToVisualIds, imageSpan } from './sequences.js';

/**
 * For each image of one request, the first of its distinct candidates (code lists, its own codes first) with
 * the highest log p(prompt <end> | image) + w log p(image | prompt) that no earlier image took: both scored
 * for every candidate of every image at once (the scorer batches the two calls into one forward pass).
 */
export async function pickImageCandidates(
  parts: ModelParts,
  rows: { cond: number[]; prompt: number[]; inverseRow: (codes: number[]) => number[] },
  candidates: number[][][],
  job: JobControl,
): Promise<number[][]> {
  const m = parts.manifest;
  const w = m.generation.image_candidate_forward_weight;
  const distinct = candidates.map((list) => firstOfEach(list, (c) => c));
  const flat = distinct.flat();
  const visual = m.vocab.visual_offset;
  const [inverse, forward] = await Promise.all([
    // the prompt and <end>, over the text ids
    parts.model.score(flat.map(rows.inverseRow), rows.prompt.length + 1, 0, m.vocab.text_size),
    w === 0
      ? null
      : parts.model.score(
          flat.map((codes) => [...rows.cond, ...codesToVisualIds(codes, parts.vocab)]),
          m.tokens.per_image,
          visual,
          visual + m.tokens.codebook_size,
        ),
  ]);
  job.throwIfStopped();
  const scores = inverse.map((s, i) => s + (forward ? w * forward[i]! : 0));
  // images in order; each takes its best candidate that no earlier image of the request took (so that a
  // request for several images does not get one image several times), else its best
  const taken = new Set<string>();
  let at = 0;
  return distinct.map((list) => {
    const order = list.map((_, i) => i).sort((a, b) => scores[at + b]! - scores[at + a]! || a - b);
    at += list.length;
    const pick = order.find((i) => !taken.has(list[i]!.join(','))) ?? order[0]!;
    taken.add(list[pick]!.join(','));
    return list[pick]!;
  });
}

/**
 * Codes -> `<bos> <user> [image] {prompt_instruction} <assistant> {prompt} <end>`, the inverse of
 * text-to-image; the instruction is encoded once per request.
 */
export function rerankRows(parts: ModelParts, promptIds: number[]): (codes: number[]) => number[] {
  const instruction = parts.manifest.prompting.prompt_instruction;
  if (instruction === undefined) throw new Error('image reranking needs prompting.prompt_instruction');
  const s = parts.vocab.special;
  const question = parts.tokenizer.encode(instruction);
  const answer = [s.assistant, ...promptIds, s.end];
  return (codes) => [s.bos, s.user, ...imageSpan(codes, parts.vocab), ...question, ...answer];
}
