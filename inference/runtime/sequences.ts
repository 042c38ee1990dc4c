/**
 * LLM id sequences for each task (docs/model-package.md, "Sequences"). Pure: takes already-encoded
 * codes and a text encoder. An image span is <boi> + K visual ids in tokens.order + <eoi>.
 */
import { type ChatTurn, RuntimeError } from './api.js';
import type { Manifest } from './manifest.js';

export interface SequenceVocab {
  special: Manifest['vocab']['special'];
  visualOffset: number;
  order: Manifest['tokens']['order'];
  maxPromptTokens: number;
}

export type EncodeText = (text: string) => number[];

/** Code-order codes -> visual LLM ids in emission order (coarse_to_fine: code K-1 first). */
export function codesToVisualIds(codes: number[], v: SequenceVocab): number[] {
  const ordered = v.order === 'coarse_to_fine' ? [...codes].reverse() : codes;
  return ordered.map((c) => v.visualOffset + c);
}

/** Visual LLM ids in emission order -> code-order codes. */
export function visualIdsToCodes(ids: number[], v: SequenceVocab): number[] {
  const codes = ids.map((id) => id - v.visualOffset);
  return v.order === 'coarse_to_fine' ? codes.reverse() : codes;
}

export function imageSpan(codes: number[], v: SequenceVocab): number[] {
  return [v.special.boi, ...codesToVisualIds(codes, v), v.special.eoi];
}

/** Encodes user text, enforcing prompting.max_prompt_tokens. */
export function encodeUserText(text: string, encode: EncodeText, v: SequenceVocab, what: string): number[] {
  const ids = encode(text);
  if (ids.length > v.maxPromptTokens) {
    throw new RuntimeError(
      'invalid_argument',
      `${what} is too long: ${ids.length} tokens, the model accepts at most ${v.maxPromptTokens}`,
    );
  }
  return ids;
}

/** Generate: cond `<bos> <user> {prompt} <assistant> <boi>`, uncond drops the prompt; and the prompt's ids. */
export function buildGenerateRows(
  prompt: string,
  encode: EncodeText,
  v: SequenceVocab,
): { cond: number[]; uncond: number[]; prompt: number[] } {
  if (prompt.trim() === '') throw new RuntimeError('invalid_argument', 'prompt is empty');
  const s = v.special;
  const text = encodeUserText(prompt, encode, v, 'prompt');
  return {
    cond: [s.bos, s.user, ...text, s.assistant, s.boi],
    uncond: [s.bos, s.user, s.assistant, s.boi],
    prompt: text,
  };
}

/** Edit: cond `<bos> <user> [image] {instruction} <assistant> <boi>`, uncond drops the instruction. */
export function buildEditRows(
  codes: number[],
  instruction: string,
  encode: EncodeText,
  v: SequenceVocab,
): { cond: number[]; uncond: number[] } {
  if (instruction.trim() === '') throw new RuntimeError('invalid_argument', 'instruction is empty');
  const s = v.special;
  const text = encodeUserText(instruction, encode, v, 'instruction');
  const image = imageSpan(codes, v);
  return {
    cond: [s.bos, s.user, ...image, ...text, s.assistant, s.boi],
    uncond: [s.bos, s.user, ...image, s.assistant, s.boi],
  };
}

/** Caption / ask: `<bos> <user> [image] {text} <assistant>`. */
export function buildImageQuestionRow(
  codes: number[],
  question: string,
  encode: EncodeText,
  v: SequenceVocab,
): number[] {
  if (question.trim() === '') throw new RuntimeError('invalid_argument', 'question is empty');
  const s = v.special;
  const text = encodeUserText(question, encode, v, 'question');
  return [s.bos, s.user, ...imageSpan(codes, v), ...text, s.assistant];
}

/**
 * Chat: `<bos>` then per turn `<user> parts...` or `<assistant> parts... <end>`, then `<assistant>`.
 * `imageCodes[i]` are the codes of the i-th image part across all turns, in order.
 */
export function buildChatRow(
  turns: ChatTurn[],
  imageCodes: number[][],
  encode: EncodeText,
  v: SequenceVocab,
): number[] {
  if (turns.length === 0) throw new RuntimeError('invalid_argument', 'chat needs at least one turn');
  if (turns.at(-1)!.role !== 'user')
    throw new RuntimeError('invalid_argument', 'the last chat turn must be from the user');
  const s = v.special;
  const out = [s.bos];
  let image = 0;
  for (const turn of turns) {
    out.push(turn.role === 'user' ? s.user : s.assistant);
    for (const part of turn.parts) {
      if (part.kind === 'text') out.push(...encodeUserText(part.text, encode, v, 'a chat message'));
      else out.push(...imageSpan(imageCodes[image++]!, v));
    }
    if (turn.role === 'assistant') out.push(s.end);
  }
  out.push(s.assistant);
  return out;
}

/** The chat uncond row when the answer turns out to be an image: `<bos> <user> <assistant> <boi>`. */
export function buildUnconditionalImageRow(v: SequenceVocab): number[] {
  const s = v.special;
  return [s.bos, s.user, s.assistant, s.boi];
}
