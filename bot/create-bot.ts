/**
 * Builds the whole bot from its parts, so tests can run it with a fake inference client, an
 * in-memory store and a local Discord-compatible server (config.discord.apiUrl).
 */
import { setMaxListeners } from 'node:events';
import {
  Client,
  Events,
  GatewayIntentBits,
  type Interaction,
  type Message,
  Partials,
  RESTEvents,
} from 'discord.js';
import { handleMessage } from './chat/handle-message.js';
import type { BotConfig } from './config.js';
import type { BotContext } from './context.js';
import type { InferenceClient } from './inference/client.js';
import { ServerLimitsCache } from './inference/server-limits.js';
import { callbackInteractionId, PendingAcks } from './interactions/pending-acks.js';
import { routeInteraction } from './interactions/route-interaction.js';
import { UserJobLimiter } from './jobs/user-limiter.js';
import { type Logger, silentLogger } from './logger.js';
import { compileBlocklist } from './prompts/check-prompt.js';
import type { JobStore } from './store/job-store.js';

export interface CreateBotOptions {
  config: BotConfig;
  inference: InferenceClient;
  store: JobStore;
  logger?: Logger;
  /** Attachment downloads; defaults to global fetch. */
  fetch?: typeof fetch;
  now?: () => number;
}

export interface Bot {
  client: Client;
  context: BotContext;
  /** Logs in and resolves once the gateway session is ready. */
  start(): Promise<void>;
  /** Cancels running jobs (they offer "Try again"), waits briefly for handlers, disconnects. */
  stop(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const STOP_GRACE_MS = 5000;
/** Discord fails an interaction not acknowledged within this time. */
const ACK_WINDOW_MS = 3000;
/** Longest that work after an acknowledgement waits for other interactions' acknowledgements. */
const ACK_PRIORITY_MAX_WAIT_MS = 1000;

export function createBot(options: CreateBotOptions): Bot {
  const { config, inference, store } = options;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const intents = [
    GatewayIntentBits.Guilds,
    GatewayIntentBits.GuildMessages,
    GatewayIntentBits.DirectMessages,
  ];
  // Message Content is privileged; without it the bot still sees DMs, mentions and context-menu targets.
  if (config.discord.messageContentIntent) intents.push(GatewayIntentBits.MessageContent);
  const client = new Client({
    intents,
    partials: [Partials.Channel], // DMs arrive for channels discord.js has not cached
    rest: { api: config.discord.apiUrl },
    allowedMentions: { parse: [], repliedUser: false },
  });
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal); // every running job listens for shutdown: no leak warning past 10
  const context: BotContext = {
    config,
    inference,
    store,
    logger,
    limiter: new UserJobLimiter(now),
    serverLimits: new ServerLimitsCache(inference, logger, 5 * 60_000, now),
    blocklist: compileBlocklist(config.promptBlocklist),
    fetch: options.fetch ?? fetch,
    now,
    shutdown: shutdown.signal,
    acks: new PendingAcks({ maxWaitMs: ACK_PRIORITY_MAX_WAIT_MS, ackWindowMs: ACK_WINDOW_MS }),
  };

  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  client.on(Events.InteractionCreate, (interaction: Interaction) => {
    if (shutdown.signal.aborted) return;
    context.acks.received(interaction.id);
    track(routeInteraction(interaction, context).finally(() => context.acks.settled(interaction.id)));
  });
  // Every acknowledgement is an interaction callback request; its response ends the wait for it.
  client.rest.on(RESTEvents.Response, (request) => {
    const id = callbackInteractionId(request.path);
    if (id) context.acks.settled(id);
  });
  client.on(Events.MessageCreate, (message: Message) => {
    if (!shutdown.signal.aborted) track(handleMessage(message, context));
  });
  client.on(Events.Error, (err) => logger.error('discord client error', { err }));
  client.on(Events.Warn, (message) => logger.warn('discord client warning', { message }));

  let pruneTimer: NodeJS.Timeout | undefined;
  const prune = () => {
    const removed = store.pruneJobsBefore(now() - config.store.retentionDays * DAY_MS);
    if (removed > 0) logger.info('pruned old jobs', { removed });
  };

  return {
    client,
    context,
    async start() {
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await client.login(config.discord.token);
      await ready;
      logger.info('bot ready', { user: client.user?.tag, shards: client.shard?.ids ?? [0] });
      void context.serverLimits.refresh();
      prune();
      pruneTimer = setInterval(prune, DAY_MS);
      pruneTimer.unref();
    },
    async stop() {
      shutdown.abort();
      context.acks.releaseAll();
      if (pruneTimer) clearInterval(pruneTimer);
      const grace = new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
      await Promise.race([Promise.allSettled([...inFlight]), grace]);
      await client.destroy();
    },
  };
}
