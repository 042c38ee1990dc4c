import { describe, expect, it } from 'vitest';
import { checkPrompt, compileBlocklist } from '../../../bot/prompts/check-prompt.js';

describe('prompt block list', () => {
  const blocked = compileBlocklist(['gore', '/n[s5]fw/']);

  it('matches whole words case-insensitively', () => {
    expect(blocked('some GORE here')).toBe(true);
    expect(blocked('gorest')).toBe(false);
    expect(blocked('a red circle')).toBe(false);
  });

  it('supports regex entries', () => {
    expect(blocked('totally n5fw')).toBe(true);
  });

  it('an empty list blocks nothing', () => {
    expect(compileBlocklist([])('anything')).toBe(false);
  });
});

describe('checkPrompt', () => {
  const rules = { maxChars: 20, blocked: compileBlocklist(['bad']) };
  it('trims and returns the prompt', () => {
    expect(checkPrompt('  a red circle ', rules)).toBe('a red circle');
  });
  it('drops control characters and bidi overrides, keeping newlines', () => {
    expect(checkPrompt('a red\u0000 circle\u0007\u001b\u202e', rules)).toBe('a red circle');
    expect(checkPrompt('two\nlines\u0085', rules)).toBe('two\nlines');
    expect(() => checkPrompt('\u0000\u0007', rules)).toThrow(/empty/);
  });
  it('explains empty, too long and blocked prompts', () => {
    expect(() => checkPrompt('   ', rules)).toThrow(/empty/);
    expect(() => checkPrompt('x'.repeat(21), rules)).toThrow(/21 characters; the limit is 20/);
    expect(() => checkPrompt('a bad idea', rules, 'question')).toThrow(/question contains words/);
  });
});
