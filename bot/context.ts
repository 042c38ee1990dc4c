/** Everything a handler may use, built once by createBot and passed down explicitly. */
import type { BotConfig } from './config.js';
import type { InferenceClient } from './inference/client.js';
import type { ServerLimitsCache } from './inference/server-limits.js';
import type { PendingAcks } from './interactions/pending-acks.js';
import type { UserJobLimiter } from './jobs/user-limiter.js';
import type { Logger } from './logger.js';
import type { Blocklist } from './prompts/check-prompt.js';
import type { JobStore } from './store/job-store.js';

export interface BotContext {
  config: BotConfig;
  inference: InferenceClient;
  store: JobStore;
  logger: Logger;
  limiter: UserJobLimiter;
  serverLimits: ServerLimitsCache;
  blocklist: Blocklist;
  /** Attachment downloads (tests may substitute). */
  fetch: typeof fetch;
  now: () => number;
  /** Aborted when the bot stops: running jobs cancel their server calls. */
  shutdown: AbortSignal;
  /** Unacknowledged interactions: work after an acknowledgement lets them go first (see pending-acks.ts). */
  acks: PendingAcks;
}
