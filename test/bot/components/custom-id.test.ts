import { describe, expect, it } from 'vitest';
import { decodeCustomId, encodeCustomId } from '../../../bot/components/custom-id.js';
import { buildResultButtons } from '../../../bot/components/result-buttons.js';

describe('custom_id encoding', () => {
  it('round-trips action, id and index', () => {
    const encoded = encodeCustomId({ action: 'vary', id: '0abc123xyz99', index: 3 });
    expect(encoded).toBe('ddt1:vary:0abc123xyz99:3');
    expect(decodeCustomId(encoded)).toEqual({ action: 'vary', id: '0abc123xyz99', index: 3 });
    expect(decodeCustomId(encodeCustomId({ action: 'reroll', id: 'abc' }))).toEqual({
      action: 'reroll',
      id: 'abc',
    });
  });

  it('carries a snowflake for context-menu modals within 100 characters', () => {
    const encoded = encodeCustomId({ action: 'ask-msg', id: '1234567890123456789' });
    expect(encoded.length).toBeLessThanOrEqual(100);
    expect(decodeCustomId(encoded)?.id).toBe('1234567890123456789');
  });

  it('rejects foreign or malformed ids instead of guessing', () => {
    for (const bad of [
      '',
      'hello',
      'ddt0:reroll:abc',
      'ddt1:explode:abc',
      'ddt1:reroll:ABC',
      'ddt1:vary:abc:x',
      'ddt1:vary:abc:1:2',
    ])
      expect(decodeCustomId(bad)).toBeUndefined();
  });

  it('refuses to encode ids that could smuggle separators', () => {
    expect(() => encodeCustomId({ action: 'reroll', id: 'a:b' })).toThrow();
    expect(() => encodeCustomId({ action: 'reroll', id: 'x'.repeat(41) })).toThrow();
    expect(() => encodeCustomId({ action: 'vary', id: 'abc', index: 100 })).toThrow();
  });
});

describe('result buttons', () => {
  it('fits Discord limits for four images: at most 5 rows of 5, unique ids', () => {
    const rows = buildResultButtons('abcdefghijkl', 'imagine', 4);
    expect(rows.length).toBeLessThanOrEqual(5);
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(5);
    const ids = rows.flat().map((b) => b.customId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('ddt1:reroll:abcdefghijkl');
    expect(ids).toContain('ddt1:blend:abcdefghijkl:3');
  });

  it('offers no Re-roll for chat answers and no Reveal on a reveal', () => {
    const chat = buildResultButtons('j1', 'chat', 1)
      .flat()
      .map((b) => b.label);
    expect(chat).not.toContain('Re-roll');
    expect(chat).toContain('Edit');
    const reveal = buildResultButtons('j1', 'reveal', 1)
      .flat()
      .map((b) => b.label);
    expect(reveal).not.toContain('Reveal');
    expect(reveal).toContain('Variations');
  });
});
