import { describe, expect, it } from 'vitest';
import { splitMessage } from '../../../bot/text/split-message.js';

describe('splitMessage', () => {
  it('keeps short text as one message', () => {
    expect(splitMessage('hello')).toEqual(['hello']);
    expect(splitMessage('')).toEqual(['']);
  });

  it('never exceeds the limit and loses no characters', () => {
    const text = Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ');
    const parts = splitMessage(text, 200);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(200);
    expect(parts.join('')).toBe(text);
  });

  it('prefers line breaks over spaces', () => {
    const text = `${'a '.repeat(60)}\n${'b '.repeat(60)}`;
    const [first] = splitMessage(text, 150);
    expect(first!.endsWith('\n')).toBe(true);
  });

  it('cuts text without any boundary hard, still losing nothing', () => {
    const text = 'x'.repeat(450);
    const parts = splitMessage(text, 100);
    expect(parts.join('')).toBe(text);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(100);
  });

  it('does not split a surrogate pair', () => {
    const text = '😀'.repeat(100); // 200 UTF-16 units
    const parts = splitMessage(text, 51);
    expect(parts.join('')).toBe(text);
    for (const p of parts) expect(p).not.toMatch(/[\ud800-\udbff]$/);
  });

  it('closes and reopens a code block cut in the middle', () => {
    const code = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
    const text = `Here:\n\`\`\`ts\n${code}\n\`\`\`\nDone.`;
    const parts = splitMessage(text, 120);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(120);
      expect((p.match(/```/g) ?? []).length % 2).toBe(0);
    }
    expect(parts[1]!.startsWith('```ts\n')).toBe(true);
  });
});
