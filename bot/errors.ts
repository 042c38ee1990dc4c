import { InferenceError } from './inference/client.js';

/** An error whose message is written for the person who triggered it and is safe to show in Discord. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024)
    return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} B`;
}

/**
 * The one line a user sees for any failure. UserError and known inference failures say what to do;
 * anything else is a bug or an outage on our side: a generic line with the job id to quote.
 */
export function describeError(err: unknown, jobId?: string): string {
  const ref = jobId ? ` (job \`${jobId}\`)` : '';
  if (err instanceof UserError) return err.message;
  if (err instanceof InferenceError) {
    switch (err.kind) {
      case 'unavailable':
        return `The image server is down right now. Your job${ref} was saved, not lost: try again in a minute.`;
      case 'busy':
        return 'The image server is busy. Please try again in a minute.';
      case 'invalid':
        return `The server refused this request: ${truncate(err.message, 300)}`;
      case 'too_large':
        return 'That is too large for the image server. Try a smaller image or shorter text.';
      case 'timeout':
        return `The job${ref} took too long and was stopped. Try again, perhaps with fewer images.`;
      case 'cancelled':
        return `The job${ref} was cancelled.`;
      case 'unauthenticated':
      case 'internal':
        break;
    }
  }
  return `Something went wrong on our side${ref}. It has been logged; please try again later.`;
}

/** Whether a failure is worth a full log entry with stack (bugs, outages) or just a debug line. */
export function isExpectedError(err: unknown): boolean {
  return (
    err instanceof UserError ||
    (err instanceof InferenceError && ['busy', 'invalid', 'too_large', 'cancelled'].includes(err.kind))
  );
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
