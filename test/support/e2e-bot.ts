/**
 * The whole bot as production builds it (createBot + GrpcInferenceClient + SQLite JobStore) against
 * the local Discord, for end-to-end tests; plus small readers of what the bot posted.
 */
import { type APIMessage, REST, Routes } from 'discord.js';
import { commandPayloads } from '../../bot/commands/index.js';
import { type BotConfig, parseConfig } from '../../bot/config.js';
import { type Bot, createBot } from '../../bot/create-bot.js';
import { GrpcInferenceClient } from '../../bot/inference/grpc-client.js';
import type { Logger } from '../../bot/logger.js';
import { JobStore } from '../../bot/store/job-store.js';
import type { LocalDiscordDriver } from '../../local-discord/driver.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  context?: Record<string, unknown>;
}

export interface E2EBot {
  bot: Bot;
  config: BotConfig;
  store: JobStore;
  inference: GrpcInferenceClient;
  logs: LogLine[];
  stop(): Promise<void>;
}

/** Registers the bot's commands with the local Discord, as `npm run deploy-commands` does. */
export async function deployCommands(driver: LocalDiscordDriver): Promise<void> {
  const rest = new REST({ api: driver.restUrl }).setToken(driver.token);
  await rest.put(Routes.applicationCommands(driver.applicationId), { body: commandPayloads() });
}

function recordingLogger(logs: LogLine[]): Logger {
  const at = (level: LogLine['level']) => (message: string, context?: Record<string, unknown>) => {
    logs.push({ level, message, ...(context ? { context } : {}) });
    if (logs.length > 5000) logs.splice(0, logs.length - 5000);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * Starts a bot on `dbPath` talking to the inference server at `address`. `env` overrides the bot's
 * configuration (variables of .env.example).
 */
export async function startE2EBot(
  driver: LocalDiscordDriver,
  opts: { address: string; dbPath: string; env?: Record<string, string> },
): Promise<E2EBot> {
  const config = parseConfig({
    DISCORD_TOKEN: driver.token,
    DISCORD_API_URL: driver.restUrl,
    INFERENCE_ADDRESS: opts.address,
    INFERENCE_HEALTH_INTERVAL_MS: '1000',
    ALLOWED_ATTACHMENT_HOSTS: '127.0.0.1',
    BOT_DB_PATH: opts.dbPath,
    PROGRESS_EDIT_INTERVAL_MS: '200',
    USER_MAX_RUNNING_JOBS: '2',
    USER_MAX_QUEUED_JOBS: '4',
    LOG_LEVEL: 'debug',
    ...opts.env,
  });
  const logs: LogLine[] = [];
  const inference = new GrpcInferenceClient({
    ...config.inference,
    addresses: [...config.inference.addresses],
  });
  const store = new JobStore(config.store.path);
  const bot = createBot({ config, inference, store, logger: recordingLogger(logs) });
  await bot.start();
  return {
    bot,
    config,
    store,
    inference,
    logs,
    async stop() {
      await bot.stop();
      inference.close();
      store.close();
    },
  };
}

export interface ButtonInfo {
  label: string;
  custom_id: string;
}

/** Every button on a message, in order. */
export function buttonsOf(message: APIMessage): ButtonInfo[] {
  const rows = (message.components ?? []) as { components?: { label?: string; custom_id?: string }[] }[];
  return rows.flatMap((row) =>
    (row.components ?? [])
      .filter((c) => c.custom_id !== undefined)
      .map((c) => ({ label: c.label ?? '', custom_id: c.custom_id! })),
  );
}

export function button(message: APIMessage, label: string): ButtonInfo {
  const found = buttonsOf(message).find((b) => b.label === label);
  if (!found)
    throw new Error(
      `no "${label}" button on: ${
        buttonsOf(message)
          .map((b) => b.label)
          .join(', ') || 'none'
      }`,
    );
  return found;
}

/** A finished image job: the reply carries an image and result buttons (previews carry no buttons). */
export const isFinishedImage = (m: APIMessage): boolean =>
  m.attachments.some((a) => (a.content_type ?? '').startsWith('image/')) && buttonsOf(m).length > 0;

/** The seed(s) in a result's metadata line ("seed 123, 456"). */
export function seedsOf(message: APIMessage): string[] {
  const m = /seed ([\d, ]+)/.exec(message.content);
  return m
    ? m[1]!
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : [];
}

/** Errors the bot logged (bugs and outages, not refusals of bad input). */
export function loggedErrors(logs: LogLine[]): LogLine[] {
  return logs.filter((l) => l.level === 'error');
}

/** A status line the bot shows while a job waits or runs (queued, progress, thinking, streaming). */
export const isInProgress = (m: APIMessage): boolean => /⏳|🎨|💭|▌/.test(m.content);

/**
 * The bot's final answer in a chat: its reply to `userMessage` once it is no longer a status line
 * (text), or once it carries the result image with buttons.
 */
export function waitForChatAnswer(
  driver: LocalDiscordDriver,
  userMessage: APIMessage,
  timeoutMs = 60_000,
): Promise<APIMessage> {
  return driver.waitForBotReply(userMessage, {
    timeoutMs,
    match: (m) =>
      m.message_reference?.message_id === userMessage.id &&
      (isFinishedImage(m) || (m.attachments.length === 0 && !isInProgress(m))),
  });
}

/** The final state of an image job started by an interaction: result image(s), or an error line. */
export function waitForJobEnd(
  driver: LocalDiscordDriver,
  target: Parameters<LocalDiscordDriver['waitForBotReply']>[0],
  timeoutMs = 60_000,
): Promise<APIMessage> {
  return driver.waitForBotReply(target, {
    timeoutMs,
    match: (m) => isFinishedImage(m) || (m.attachments.length === 0 && !isInProgress(m)),
  });
}
