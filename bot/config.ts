/**
 * Bot configuration: typed defaults, overridden by the environment (and `.env` via dotenv),
 * validated once at start-up and frozen. The only module in bot/ that reads process.env.
 */
import { config as loadDotenv } from 'dotenv';
import { z } from 'zod';

const MiB = 1024 * 1024;

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const list = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );

const envSchema = z.object({
  DISCORD_TOKEN: z.string().min(1, 'DISCORD_TOKEN is required (Bot token from the Developer Portal)'),
  DISCORD_API_URL: z.url().default('https://discord.com/api'),
  DISCORD_APPLICATION_ID: z
    .string()
    .regex(/^\d{17,20}$/, 'DISCORD_APPLICATION_ID must be a snowflake id')
    .optional(),
  DISCORD_MESSAGE_CONTENT: bool(true),
  INFERENCE_ADDRESS: list('127.0.0.1:50051').pipe(z.array(z.string().regex(/^\S+:\d+$/)).min(1)),
  INFERENCE_TOKEN: z.string().optional(),
  // Shared with the inference CLI: 0/1 (true/false), or the path of a CA file to trust (implies TLS).
  INFERENCE_TLS: z.string().default('0'),
  INFERENCE_TLS_CA: z.string().optional(),
  INFERENCE_MAX_MESSAGE_BYTES: int(32 * MiB, MiB),
  INFERENCE_TIMEOUT_MS: int(60_000, 100),
  INFERENCE_JOB_TIMEOUT_MS: int(20 * 60_000, 100),
  INFERENCE_HEALTH_INTERVAL_MS: int(10_000),
  BOT_DB_PATH: z.string().min(1).default('.bot-state/bot.sqlite'),
  JOB_RETENTION_DAYS: int(30, 1),
  ALLOWED_ATTACHMENT_HOSTS: list('cdn.discordapp.com,media.discordapp.net'),
  MAX_ATTACHMENT_BYTES: int(10 * MiB, 1),
  ATTACHMENT_TIMEOUT_MS: int(15_000, 100),
  MAX_IMAGE_PIXELS: int(4096 * 4096, 1),
  MAX_IMAGES_PER_JOB: int(4, 1, 4),
  MAX_PROMPT_CHARS: int(500, 1, 6000),
  USER_MAX_RUNNING_JOBS: int(1, 1),
  USER_MAX_QUEUED_JOBS: int(2, 0),
  PROMPT_BLOCKLIST: list(''),
  PROGRESS_EDIT_INTERVAL_MS: int(1500, 0),
  INTERACTION_TOKEN_LIFETIME_MS: int(15 * 60_000, 1),
  UPSCALE_SIZE: int(256, 16, 2048),
  CHAT_MAX_DEPTH: int(12, 1, 50),
  CHAT_MAX_IMAGES: int(4, 0, 16),
  SHARD_COUNT: int(1, 1),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type Env = Record<string, string | undefined>;

function toConfig(e: z.infer<typeof envSchema>) {
  return {
    discord: {
      token: e.DISCORD_TOKEN,
      apiUrl: e.DISCORD_API_URL.replace(/\/+$/, ''),
      applicationId: e.DISCORD_APPLICATION_ID,
      messageContentIntent: e.DISCORD_MESSAGE_CONTENT,
      shardCount: e.SHARD_COUNT,
    },
    inference: {
      addresses: e.INFERENCE_ADDRESS,
      token: e.INFERENCE_TOKEN || undefined,
      tls: !['0', 'false', 'no'].includes(e.INFERENCE_TLS.toLowerCase()),
      tlsCaPath:
        e.INFERENCE_TLS_CA ||
        (/^(0|1|true|false|yes|no)$/i.test(e.INFERENCE_TLS) ? undefined : e.INFERENCE_TLS) ||
        undefined,
      maxMessageBytes: e.INFERENCE_MAX_MESSAGE_BYTES,
      unaryTimeoutMs: e.INFERENCE_TIMEOUT_MS,
      streamTimeoutMs: e.INFERENCE_JOB_TIMEOUT_MS,
      healthIntervalMs: e.INFERENCE_HEALTH_INTERVAL_MS,
    },
    store: { path: e.BOT_DB_PATH, retentionDays: e.JOB_RETENTION_DAYS },
    attachments: {
      allowedHosts: e.ALLOWED_ATTACHMENT_HOSTS.map((h) => h.toLowerCase()),
      maxBytes: e.MAX_ATTACHMENT_BYTES,
      timeoutMs: e.ATTACHMENT_TIMEOUT_MS,
      maxPixels: e.MAX_IMAGE_PIXELS,
    },
    limits: {
      maxImagesPerJob: e.MAX_IMAGES_PER_JOB,
      maxPromptChars: e.MAX_PROMPT_CHARS,
      maxRunningPerUser: e.USER_MAX_RUNNING_JOBS,
      maxQueuedPerUser: e.USER_MAX_QUEUED_JOBS,
    },
    promptBlocklist: e.PROMPT_BLOCKLIST,
    jobs: {
      progressIntervalMs: e.PROGRESS_EDIT_INTERVAL_MS,
      interactionTokenLifetimeMs: e.INTERACTION_TOKEN_LIFETIME_MS,
      upscaleSize: e.UPSCALE_SIZE,
    },
    chat: { maxDepth: e.CHAT_MAX_DEPTH, maxImages: e.CHAT_MAX_IMAGES },
    logLevel: e.LOG_LEVEL,
  };
}

export type BotConfig = DeepReadonly<ReturnType<typeof toConfig>>;
type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Validates an environment map; throws one error listing every problem. Pure, for tests. */
export function parseConfig(env: Env): BotConfig {
  // Empty strings in .env mean "not set", so defaults apply.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid bot configuration:\n${problems}`);
  }
  return deepFreeze(toConfig(result.data));
}

/** Reads `.env` (without overriding real environment variables) and process.env. */
export function loadConfig(): BotConfig {
  loadDotenv({ quiet: true });
  return parseConfig(process.env);
}
