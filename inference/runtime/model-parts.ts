/** Everything a task needs about one loaded package: manifest, batched graphs, tokenizer, derived tables. */
import type { BatchedModel } from './batched-model.js';
import type { PhraseClasses } from './caption-refine.js';
import type { Manifest } from './manifest.js';
import type { ImageNorm } from './pixels.js';
import type { SequenceVocab } from './sequences.js';
import type { TextTokenizer } from './text-tokenizer.js';
import type { VocabMasks } from './vocab-masks.js';

export interface ModelParts {
  manifest: Manifest;
  model: BatchedModel;
  tokenizer: TextTokenizer;
  masks: VocabMasks;
  vocab: SequenceVocab;
  norm: ImageNorm;
  /** generation.caption_refine's phrases as token ids (none without it). */
  captionPhrases: PhraseClasses;
}

export function sequenceVocab(m: Manifest): SequenceVocab {
  return {
    special: m.vocab.special,
    visualOffset: m.vocab.visual_offset,
    order: m.tokens.order,
    maxPromptTokens: m.prompting.max_prompt_tokens,
  };
}

export function imageNorm(m: Manifest): ImageNorm {
  return { size: m.image.size, mean: m.image.mean, std: m.image.std, background: m.image.background };
}
