/**
 * Which LLM ids may be sampled where (1 = allowed), [V] uint8 each:
 * - visual: inside an image span, the codebook ids visual_offset .. visual_offset + codebook_size - 1
 *   (exactly K of them, after which the runtime appends <eoi> itself);
 * - text: outside images, ids < text_size except pad, bos, unk, user, assistant, boi, eoi (so <end> and
 *   words remain; the model never has a reason to write <unk>, and the Python reference masks it too);
 * - answerStart: the first token after the final <assistant> in chat: text plus <boi>.
 */
import type { Manifest } from './manifest.js';

export interface VocabMasks {
  visual: Uint8Array; // [V]
  text: Uint8Array; // [V]
  answerStart: Uint8Array; // [V]
}

export function buildVocabMasks(vocab: Manifest['vocab'], codebookSize: number): VocabMasks {
  const visual = new Uint8Array(vocab.size);
  visual.fill(1, vocab.visual_offset, vocab.visual_offset + codebookSize);
  const text = new Uint8Array(vocab.size);
  text.fill(1, 0, vocab.text_size);
  const s = vocab.special;
  for (const id of [s.pad, s.bos, s.unk, s.user, s.assistant, s.boi, s.eoi]) text[id] = 0;
  const answerStart = text.slice();
  answerStart[s.boi] = 1;
  return { visual, text, answerStart };
}
