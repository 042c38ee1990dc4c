/** How Caption and Ask results read in Discord, for the commands and for chat alike. */
import { truncate } from '../errors.js';
import { escapeMarkdown } from './markdown.js';

export function formatCaption(caption: string): string {
  return `**Caption:** ${caption || '(no caption)'}`;
}

export function formatAnswer(question: string, answer: string, caption?: string): string {
  // What the model read the image as, when it answered from its caption: a wrong answer shows why.
  const read = caption ? `\n-# read as: ${escapeMarkdown(truncate(caption, 300))}` : '';
  return `> ${escapeMarkdown(truncate(question, 300))}\n${answer || '(no answer)'}${read}`;
}
