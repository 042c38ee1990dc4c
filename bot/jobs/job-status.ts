/** Text of a job message while it waits and runs. Pure. */

import { truncate } from '../errors.js';
import type { JobParams } from '../store/job-store.js';
import { escapeMarkdown } from '../text/markdown.js';

export function describeJob(params: JobParams): string {
  switch (params.kind) {
    case 'imagine':
      return `**${escapeMarkdown(truncate(params.prompt, 300))}**`;
    case 'edit':
      return `Edit: **${escapeMarkdown(truncate(params.instruction, 300))}**`;
    case 'blend':
      return `Blend (amount ${params.amount})`;
    case 'reveal':
      return 'Reveal: decoding from the coarsest tokens to all of them';
    case 'variation':
      return `Variations (keeping the ${params.keep} coarsest tokens)`;
    case 'chat':
      return 'Chat';
  }
}

export function formatWaitingForUser(ahead: number): string {
  return `⏳ Waiting for your earlier job${ahead > 1 ? `s (${ahead} ahead)` : ''} to finish…`;
}

export function formatQueued(position: number, queueLength: number): string {
  return position <= 1
    ? '⏳ Queued: next up'
    : `⏳ Queued: position ${position} of ${Math.max(queueLength, position)}`;
}

export function formatProgress(fraction: number, stage: string, step: number, totalSteps: number): string {
  const pct = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  const filled = Math.round(pct / 10);
  const bar = '▰'.repeat(filled) + '▱'.repeat(10 - filled);
  const detail = stage ? ` · ${stage}${totalSteps > 0 ? ` ${step}/${totalSteps}` : ''}` : '';
  return `🎨 ${bar} ${pct}%${detail}`;
}
