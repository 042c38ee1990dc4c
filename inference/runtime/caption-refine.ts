/**
 * How captions are scored and refined (docs/model-package.md, "Captions by self-reranking"). A caption's
 * score is log p(image | caption), the image's tokens after the caption as a text-to-image prompt, plus
 * generation.caption_likelihood_weight x log p(caption <end> | image, caption instruction). Refinement
 * (generation.caption_refine) swaps one phrase for another of its class ("a red" for "an orange", "circle" for
 * "square") while that raises the score: the model's captions of busy images are mostly right but for one
 * colour or shape, and its text-to-image direction checks a whole caption against the image better than its
 * caption direction writes one. Mirrors training/ddt/phrases.py and Pipeline.refine_caption.
 */
import { ModelPackageError } from './errors.js';
import type { JobControl } from './job-control.js';
import type { Manifest } from './manifest.js';
import type { ModelParts } from './model-parts.js';
import { codesToVisualIds } from './sequences.js';
import type { TextTokenizer } from './text-tokenizer.js';

/** Classes of interchangeable phrases, each phrase as token ids. */
export type PhraseClasses = number[][][];

export interface PhraseSpan {
  start: number;
  length: number;
  cls: number;
}

/**
 * The phrases found in `ids`, left to right without overlap: at each position the longest phrase that
 * matches (ties: the earlier class, then the earlier phrase).
 */
export function phraseSpans(ids: number[], classes: PhraseClasses): PhraseSpan[] {
  const ranked = classes
    .flatMap((phrases, cls) => phrases.map((p) => ({ p, cls })))
    .filter(({ p }) => p.length > 0)
    .sort((a, b) => b.p.length - a.p.length); // stable: equal lengths keep class and phrase order
  const spans: PhraseSpan[] = [];
  for (let i = 0; i < ids.length; ) {
    const hit = ranked.find(({ p }) => p.every((id, k) => ids[i + k] === id));
    if (hit === undefined) {
      i++;
      continue;
    }
    spans.push({ start: i, length: hit.p.length, cls: hit.cls });
    i += hit.p.length;
  }
  return spans;
}

/** Every copy of `ids` with one phrase swapped for another of its class: span by span, phrase by phrase. */
export function phraseVariants(ids: number[], classes: PhraseClasses): number[][] {
  const out: number[][] = [];
  for (const { start, length, cls } of phraseSpans(ids, classes)) {
    const current = ids.slice(start, start + length).join(',');
    for (const p of classes[cls]!) {
      if (p.join(',') !== current) out.push([...ids.slice(0, start), ...p, ...ids.slice(start + length)]);
    }
  }
  return out;
}

/** generation.caption_refine's phrases as token ids; a phrase the tokenizer cannot spell is a package error. */
export function tokenizeCaptionPhrases(m: Manifest, tokenizer: TextTokenizer, file: string): PhraseClasses {
  const classes = m.generation.caption_refine?.phrases ?? [];
  return classes.map((phrases) =>
    phrases.map((phrase) => {
      const ids = tokenizer.encode(phrase);
      if (ids.length === 0 || ids.includes(m.vocab.special.unk)) {
        throw new ModelPackageError(
          file,
          `generation.caption_refine: the tokenizer cannot spell the phrase ${JSON.stringify(phrase)}`,
        );
      }
      return ids;
    }),
  );
}

/**
 * The score of each caption (token ids, without <end>) of the image `codes`; `row` is the caption request
 * (`<bos> <user> <image> instruction <assistant>`). Both directions go to the scorer at once, so they share
 * one forward pass.
 */
export async function captionScores(
  parts: ModelParts,
  row: number[],
  codes: number[],
  captions: number[][],
): Promise<number[]> {
  const v = parts.vocab;
  const weight = parts.manifest.generation.caption_likelihood_weight;
  const image = codesToVisualIds(codes, v);
  const forward = parts.model.score(
    captions.map((ids) => [
      v.special.bos,
      v.special.user,
      ...ids,
      v.special.assistant,
      v.special.boi,
      ...image,
    ]),
    image.length,
    v.visualOffset,
    v.visualOffset + parts.manifest.tokens.codebook_size,
  );
  // each caption its own call: the scored span is the caption's length (the scorer coalesces the calls);
  // all follow the request row, computed once per pass
  const own =
    weight === 0
      ? []
      : captions.map((ids) =>
          parts.model.score(
            [[...ids, v.special.end]],
            ids.length + 1,
            0,
            parts.manifest.vocab.text_size,
            row,
          ),
        );
  const [f, ...o] = await Promise.all([forward, ...own]);
  return f!.map((s, i) => s + (weight === 0 ? 0 : weight * o[i]![0]!));
}

/**
 * Up to caption_refine.rounds rounds: every phrase swap of the caption scored, and the best (ties: the
 * earlier) kept while it scores higher than the caption. Returns the caption's ids.
 */
export async function refineCaption(
  parts: ModelParts,
  row: number[],
  codes: number[],
  ids: number[],
  score: number,
  job: JobControl,
): Promise<number[]> {
  const rounds = parts.manifest.generation.caption_refine?.rounds ?? 0;
  for (let round = 0; round < rounds; round++) {
    const variants = phraseVariants(ids, parts.captionPhrases);
    if (variants.length === 0) break;
    const scores = await captionScores(parts, row, codes, variants);
    job.throwIfStopped();
    const best = bestIndex(scores);
    if (!(scores[best]! > score)) break;
    ids = variants[best]!;
    score = scores[best]!;
  }
  return ids;
}

/** The index of the highest score (ties: the earlier). */
export function bestIndex(scores: number[]): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}
