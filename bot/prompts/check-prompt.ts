/** Prompt validation: length and the operator's block list (words, or /regex/ entries). Pure. */
import { UserError } from '../errors.js';

export type Blocklist = (text: string) => boolean;

/** Plain entries match whole words case-insensitively; entries written `/.../` are regexes (flag i). */
export function compileBlocklist(entries: readonly string[]): Blocklist {
  const patterns = entries.map((entry) => {
    const regex = /^\/(.+)\/$/.exec(entry);
    if (regex) return new RegExp(regex[1]!, 'iu');
    const escaped = entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu');
  });
  return (text) => patterns.some((p) => p.test(text.normalize('NFKC')));
}

export interface PromptRules {
  maxChars: number;
  blocked: Blocklist;
}

/** Control characters (but newline) and bidi overrides: never meant for the model, unsafe to echo. */
const INVISIBLE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

/**
 * The prompt without control characters, trimmed; or a UserError saying what to change. `what` names
 * the field ("prompt", "question").
 */
export function checkPrompt(text: string, rules: PromptRules, what = 'prompt'): string {
  const prompt = text
    .replace(INVISIBLE, (c) => (c === '\n' ? c : ' '))
    .replace(/ {2,}/g, ' ')
    .trim();
  if (prompt === '') throw new UserError(`The ${what} is empty.`);
  if (prompt.length > rules.maxChars)
    throw new UserError(`The ${what} is ${prompt.length} characters; the limit is ${rules.maxChars}.`);
  if (rules.blocked(prompt))
    throw new UserError(`That ${what} contains words this bot does not accept. Please rephrase.`);
  return prompt;
}
