/**
 * Images by self-reranking (docs/model-package.md): each generated image's own codes and
 * generation.image_candidates more sampled at generation.image_candidate_temperature, and of the distinct
 * ones the codes under which the model's inverse direction (image in, prompting.prompt_instruction, a prompt
 * out) finds the user's prompt most likely, plus generation.image_candidate_forward_weight times the
 * codes' own log-probability under the prompt; an image drawn from the model's caption of it (a planned Edit)
 * adds generation.image_candidate_caption_weight times that caption's log-probability as the image's caption. With
 * generation.image_candidate_round_trip, every distinct candidate is decoded and scored by the codes its image
 * encodes back to: what the image shows rather than what was asked of the decoder; a planned Edit's candidates
 * then also lose generation.edit_image_candidate_source_weight times their mean absolute difference from the
 * source image (sourceDistance). Held-out text-to-image
 * prompts of the bundled model fully right: see its MODEL_CARD.md (eval.json t2i against t2i_without_reranking).
 */
import type { RgbImage } from './api.js';
import type { JobControl } from './job-control.js';
import type { ModelParts } from './model-parts.js';
import { firstOfEach } from './row-dedup.js';
import { codesToVisualIds, imageSpan } from './sequences.js';

export interface RerankRows {
  /** The Generate row the candidates were sampled after (for the forward score). */
  cond: number[];
  /** The prompt's (or plan's) ids. */
  prompt: number[];
  /** Codes -> the inverse row (prompt_instruction). */
  inverseRow: (codes: number[]) => number[];
  /** Codes -> the row that asks for the caption (captioned images with a caption weight), else null. */
  captionRow: ((codes: number[]) => number[]) | null;
  /** A planned Edit's source image (background normalised), scored against with a source weight. */
  source?: RgbImage;
}

/**
 * Mean absolute difference (0-255) of two images' channel values: how much of the source image an edit's
 * candidate changed (as training/ddt/pipeline.py source_distance).
 */
export function sourceDistance(image: RgbImage, source: RgbImage): number {
  if (image.data.length !== source.data.length) {
    throw new Error(
      `source image is ${source.width}x${source.height}, candidate ${image.width}x${image.height}`,
    );
  }
  let sum = 0;
  for (let i = 0; i < image.data.length; i++) sum += Math.abs(image.data[i]! - source.data[i]!);
  return sum / image.data.length;
}

/** Decodes candidates (each from its image's noise) and encodes the images back. */
export type RoundTrip = (
  candidates: number[][],
  imageOf: number[],
) => Promise<{ images: RgbImage[]; codes: number[][] }>;

/** A chosen candidate: its codes, and with a round trip its decoded image. */
export interface PickedImage {
  codes: number[];
  image?: RgbImage;
}

/**
 * For each image of one request, the first of its distinct candidates (code lists, its own codes first) with
 * the highest log p(prompt <end> | image) + w log p(image | prompt) (+ c log p(prompt <end> | image) asked as
 * its caption) that no earlier image took: all scored for every candidate of every image at once (the scorer
 * batches the calls into one forward pass).
 */
export async function pickImageCandidates(
  parts: ModelParts,
  rows: RerankRows,
  candidates: number[][][],
  job: JobControl,
  roundTrip?: RoundTrip,
): Promise<PickedImage[]> {
  const m = parts.manifest;
  const w = m.generation.image_candidate_forward_weight;
  const c = rows.captionRow ? m.generation.image_candidate_caption_weight : 0;
  const distinct = candidates.map((list) => firstOfEach(list, (codes) => codes));
  const flat = distinct.flat();
  let scored = flat;
  let images: RgbImage[] | undefined;
  if (roundTrip) {
    const back = await roundTrip(
      flat,
      distinct.flatMap((list, i) => list.map(() => i)),
    );
    job.throwIfStopped();
    ({ images, codes: scored } = back);
  }
  const visual = m.vocab.visual_offset;
  const answerLength = rows.prompt.length + 1; // the prompt and <end>, over the text ids
  const [inverse, asCaption, forward] = await Promise.all([
    parts.model.score(scored.map(rows.inverseRow), answerLength, 0, m.vocab.text_size),
    c === 0 ? null : parts.model.score(scored.map(rows.captionRow!), answerLength, 0, m.vocab.text_size),
    w === 0
      ? null
      : parts.model.score(
          // every candidate follows the same Generate row, computed once per pass
          scored.map((codes) => codesToVisualIds(codes, parts.vocab)),
          m.tokens.per_image,
          visual,
          visual + m.tokens.codebook_size,
          rows.cond,
        ),
  ]);
  job.throwIfStopped();
  // closeness to an Edit's source: an edit changes little of the image (only with the round trip's images)
  const sw = rows.source && images ? m.generation.edit_image_candidate_source_weight : 0;
  const scores = inverse.map(
    (s, i) =>
      s +
      (asCaption ? c * asCaption[i]! : 0) +
      (forward ? w * forward[i]! : 0) +
      (sw > 0 ? sw * -sourceDistance(images![i]!, rows.source!) : 0),
  );
  // images in order; each takes its best candidate that no earlier image of the request took (so that a
  // request for several images does not get one image several times), else its best
  const taken = new Set<string>();
  let at = 0;
  return distinct.map((list) => {
    const order = list.map((_, i) => i).sort((a, b) => scores[at + b]! - scores[at + a]! || a - b);
    const pick = order.find((i) => !taken.has(list[i]!.join(','))) ?? order[0]!;
    taken.add(list[pick]!.join(','));
    const image = images?.[at + pick];
    at += list.length;
    return image ? { codes: list[pick]!, image } : { codes: list[pick]! };
  });
}

/**
 * Codes -> `<bos> <user> [image] {instruction} <assistant> {prompt} <end>`: the inverse of text-to-image
 * (prompting.prompt_instruction), or the prompt asked as the image's caption; the instruction is encoded once
 * per request.
 */
export function rerankRows(
  parts: ModelParts,
  promptIds: number[],
  instruction: string | undefined,
): (codes: number[]) => number[] {
  if (instruction === undefined) throw new Error('image reranking needs prompting.prompt_instruction');
  const s = parts.vocab.special;
  const question = parts.tokenizer.encode(instruction);
  const answer = [s.assistant, ...promptIds, s.end];
  return (codes) => [s.bos, s.user, ...imageSpan(codes, parts.vocab), ...question, ...answer];
}
