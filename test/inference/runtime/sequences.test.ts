import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../../inference/runtime/api.js';
import {
  buildChatRow,
  buildEditRows,
  buildGenerateRows,
  buildImageQuestionRow,
  codesToVisualIds,
  type SequenceVocab,
  visualIdsToCodes,
} from '../../../inference/runtime/sequences.js';

const special = { pad: 0, bos: 1, end: 2, unk: 3, boi: 4, eoi: 5, user: 6, assistant: 7 };
const v: SequenceVocab = { special, visualOffset: 100, order: 'coarse_to_fine', maxPromptTokens: 3 };
const words: Record<string, number> = { red: 10, circle: 11, blue: 12, what: 13 };
const encode = (text: string) =>
  text
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => words[w] ?? special.unk);

describe('sequences', () => {
  it('maps codes to visual ids, flipping coarse_to_fine', () => {
    expect(codesToVisualIds([1, 2, 3], v)).toEqual([103, 102, 101]);
    expect(visualIdsToCodes([103, 102, 101], v)).toEqual([1, 2, 3]);
    expect(codesToVisualIds([1, 2, 3], { ...v, order: 'code_order' })).toEqual([101, 102, 103]);
  });

  it('builds generate rows with an unconditional twin, and keeps the prompt ids for reranking', () => {
    expect(buildGenerateRows('red circle', encode, v)).toEqual({
      cond: [1, 6, 10, 11, 7, 4],
      uncond: [1, 6, 7, 4],
      prompt: [10, 11],
    });
  });

  it('builds edit and question rows around the image span', () => {
    expect(buildEditRows([0, 9], 'blue', encode, v)).toEqual({
      cond: [1, 6, 4, 109, 100, 5, 12, 7, 4],
      uncond: [1, 6, 4, 109, 100, 5, 7, 4],
    });
    expect(buildImageQuestionRow([0, 9], 'what', encode, v)).toEqual([1, 6, 4, 109, 100, 5, 13, 7]);
  });

  it('builds chat turns: user parts, assistant answers closed by <end>, final <assistant>', () => {
    const row = buildChatRow(
      [
        {
          role: 'user',
          parts: [
            { kind: 'image', image: { width: 1, height: 1, data: new Uint8Array(3) } },
            { kind: 'text', text: 'what' },
          ],
        },
        { role: 'assistant', parts: [{ kind: 'text', text: 'red' }] },
        { role: 'user', parts: [{ kind: 'text', text: 'blue' }] },
      ],
      [[7, 8]],
      encode,
      v,
    );
    expect(row).toEqual([1, 6, 4, 108, 107, 5, 13, 7, 10, 2, 6, 12, 7]);
  });

  it('rejects empty, too long, and assistant-final input as invalid_argument', () => {
    const kind = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as RuntimeError).kind;
      }
      return 'ok';
    };
    expect(kind(() => buildGenerateRows('  ', encode, v))).toBe('invalid_argument');
    expect(kind(() => buildGenerateRows('red red red red', encode, v))).toBe('invalid_argument');
    expect(kind(() => buildGenerateRows('red red red', encode, v))).toBe('ok');
    expect(kind(() => buildChatRow([{ role: 'assistant', parts: [] }], [], encode, v))).toBe(
      'invalid_argument',
    );
    expect(kind(() => buildChatRow([], [], encode, v))).toBe('invalid_argument');
    expect(() => buildGenerateRows('', encode, v)).toThrow(RuntimeError);
  });
});
