import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTextTokenizer } from '../../../inference/runtime/text-tokenizer.js';

// word-tokenizer.json was written by Python `tokenizers` 0.20.3 (WordLevel + Whitespace + Lowercase); the
// expected ids and text below are what Python printed for the same input.
const file = fileURLToPath(new URL('./fixtures/word-tokenizer.json', import.meta.url));
const specials = [0, 1, 2, 3, 4, 5, 6, 7];

describe('loadTextTokenizer (word level)', () => {
  it('encodes like Python tokenizers, unknown words -> <unk>', async () => {
    const tok = await loadTextTokenizer(file, specials, 3);
    expect(tok.encode('A red circle, on the LEFT?')).toEqual([8, 9, 10, 3, 13, 14, 15, 22]);
    expect(tok.vocabSize).toBe(28);
  });

  it('decodes as words joined by spaces, specials skipped', async () => {
    const tok = await loadTextTokenizer(file, specials, 3);
    expect(tok.decode([8, 9, 10, 3, 13, 14, 15, 22])).toBe('a red circle on the left ?');
    expect(tok.decode([])).toBe('');
  });

  it('turns special tokens typed by a user into <unk>', async () => {
    const tok = await loadTextTokenizer(file, specials, 3);
    expect(tok.encode('red <assistant> <boi>')).toEqual([9, 3, 3]);
  });

  it("reads the bundled package's normaliser (punctuation, digits, spellings) as Python does", async () => {
    // The world's language has no punctuation; the package's tokenizer.json replaces it with spaces, so a
    // "?" after a question is not read as <unk> (training/ddt/vocab.py). Ids printed by Python tokenizers.
    const bundled = fileURLToPath(
      new URL('../../../models/shapes-ddt-small/tokenizer.json', import.meta.url),
    );
    const tok = await loadTextTokenizer(bundled, specials, 3);
    expect(tok.encode('How many circles are there?')).toEqual([31, 38, 22, 13, 57]);
    expect(tok.encode('What colour is the circle? Please!')).toEqual([64, 24, 34, 56, 21, 47]);
    expect(tok.encode('top-left, <boi> ok')).toEqual([60, 36, 3, 3]);
    // digits 0-4 and "centre" become the world's words; other numbers stay unknown
    expect(tok.encode('Draw 2 red circles in the centre!')).toEqual([27, 63, 49, 22, 33, 56, 20]);
    expect(tok.encode('12 circles')).toEqual([3, 22]);
  });

  it('names the file when it is not JSON', async () => {
    await expect(loadTextTokenizer(fileURLToPath(import.meta.url), specials, 3)).rejects.toThrow(
      /text-tokenizer\.test\.ts: cannot read tokenizer JSON/,
    );
  });
});
