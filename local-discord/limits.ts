/** Discord's limits, overridable so tests can shrink time windows instead of sleeping. */
export interface Limits {
  /** Characters in `content` (Discord: 2000). */
  maxContentLength: number;
  /** Attachments per message (Discord: 10). */
  maxAttachments: number;
  /** Bytes per uploaded file (Discord default: 10 MiB; sent to bots as `attachment_size_limit`). */
  maxFileSize: number;
  /** Bytes per request (Discord: 25 MiB). */
  maxRequestSize: number;
  /** Time to acknowledge an interaction (Discord: 3 s). */
  ackWindowMs: number;
  /** Lifetime of an interaction token (Discord: 15 min). */
  tokenLifetimeMs: number;
  /** Gateway heartbeat interval sent in HELLO (Discord: ~41.25 s). */
  heartbeatIntervalMs: number;
}

export const DISCORD_LIMITS: Readonly<Limits> = Object.freeze({
  maxContentLength: 2000,
  maxAttachments: 10,
  maxFileSize: 10 * 1024 * 1024,
  maxRequestSize: 25 * 1024 * 1024,
  ackWindowMs: 3000,
  tokenLifetimeMs: 15 * 60 * 1000,
  heartbeatIntervalMs: 41_250,
});
