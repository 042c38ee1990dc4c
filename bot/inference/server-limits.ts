/**
 * The server's own limits (prompt length, image bytes/pixels), from GetModelInfo, cached and
 * refreshed in the background. Unknown (0) until the server first answers: then only the bot's
 * limits apply and the server still has the last word.
 */
import type { Logger } from '../logger.js';
import type { InferenceClient, ServerLimits } from './client.js';

const UNKNOWN: ServerLimits = {
  maxPromptChars: 0,
  maxImageBytes: 0,
  maxImagePixels: 0,
  imageSize: 0,
  tokensPerImage: 0,
};

export class ServerLimitsCache {
  private limits: ServerLimits = UNKNOWN;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly inference: InferenceClient,
    private readonly logger: Logger,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The last known limits; starts a refresh when they are stale, without waiting for it. */
  current(): ServerLimits {
    if (this.now() - this.fetchedAt > this.ttlMs) void this.refresh();
    return this.limits;
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.inference
      .getModelInfo({ timeoutMs: 5000 })
      .then((info) => {
        this.limits = info;
        this.fetchedAt = this.now();
      })
      .catch((err) => {
        // Retry on next use but not in a tight loop: count a failure as a short-lived fetch.
        this.fetchedAt = this.now() - this.ttlMs + 30_000;
        this.logger.warn('could not read server limits', { err });
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }
}
