/**
 * Configuration of the inference server and its CLI: typed defaults, overridden by the environment
 * (and a `.env` file at the repository root), validated once with zod and frozen. This is the only
 * module that reads `process.env`; every variable is documented in `.env.example`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import dotenv from 'dotenv';
import { z } from 'zod';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;

type Env = Record<string, string | undefined>;

/** Empty strings in .env files mean "unset", so defaults apply. */
const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(unsetIfEmpty, z.string().trim().optional());
const int = (min: number, max: number, fallback: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number().int().min(min).max(max).default(fallback));
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:]+):\d{1,5}$/, 'expected host:port');

const serverSchema = z
  .object({
    INFERENCE_LISTEN: z.preprocess(unsetIfEmpty, hostPort.default('127.0.0.1:50051')),
    MODELS_DIR: z.preprocess(unsetIfEmpty, z.string().default(`${REPO_ROOT}models`)),
    INFERENCE_TOKEN: optionalString,
    METRICS_LISTEN: z.preprocess(unsetIfEmpty, hostPort.optional()),
    EXECUTION_PROVIDER: z.preprocess(unsetIfEmpty, z.enum(['cpu', 'cuda', 'webgpu']).default('cpu')),
    TLS_CERT: optionalString,
    TLS_KEY: optionalString,
    MAX_QUEUE: int(1, 10_000, 32),
    MODEL_WORKERS: int(0, 64, 0),
    INTRA_OP_THREADS: int(0, 256, 0),
    MODEL_WORKER_NICE: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(19).optional()),
    RUNTIME_THREAD: int(0, 1, 1),
    MAX_IMAGE_BYTES: int(1024, 512 * MiB, 20 * MiB),
    MAX_IMAGE_PIXELS: int(64, 1_000_000_000, 40_000_000),
    MAX_PROMPT_CHARS: int(1, 100_000, 1000),
    MAX_CHAT_IMAGES: int(1, 64, 4),
    REVEAL_MAX_FRAMES: int(2, 1024, 32),
    PROGRESS_INTERVAL_MS: int(0, 60_000, 100),
    SHUTDOWN_GRACE_MS: int(0, 600_000, 10_000),
    DEFAULT_MODEL: optionalString,
    LOG_LEVEL: z.preprocess(unsetIfEmpty, z.enum(['debug', 'info', 'warn', 'error']).default('info')),
  })
  .refine((e) => (e.TLS_CERT === undefined) === (e.TLS_KEY === undefined), {
    message: 'TLS_CERT and TLS_KEY must be set together',
  });

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ServerConfig {
  listen: string;
  modelsDir: string;
  token?: string;
  metricsListen?: string;
  executionProvider: 'cpu' | 'cuda' | 'webgpu';
  tls?: { certPath: string; keyPath: string };
  maxQueue: number;
  /** Model worker threads per package and ORT intra-op threads per session; undefined = the runtime's layout. */
  workers?: number;
  intraOpThreads?: number;
  /** Linux niceness of the model worker threads; undefined = the runtime's layout, 0 = unchanged. */
  workerNiceness?: number;
  /** The model runtime on a thread of its own (inference/runtime/runtime-thread.ts), not the gRPC thread. */
  runtimeThread: boolean;
  limits: {
    maxImageBytes: number;
    maxImagePixels: number;
    maxPromptChars: number;
    maxChatImages: number;
  };
  revealMaxFrames: number;
  /** Least time between two progress events without a preview in a stream (0 = every model step). */
  progressIntervalMs: number;
  shutdownGraceMs: number;
  defaultModel?: string;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** process.env merged with the repository's .env file (real environment variables win). */
export function readEnvironment(): Env {
  const env: Env = { ...process.env };
  const path = `${REPO_ROOT}.env`;
  if (existsSync(path)) dotenv.config({ path, processEnv: env as Record<string, string>, quiet: true });
  return env;
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
}

/** Validates the server's variables; throws ConfigError naming each bad variable. */
export function loadServerConfig(env: Env = readEnvironment()): Readonly<ServerConfig> {
  const parsed = serverSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${formatIssues(parsed.error)}`);
  const e = parsed.data;
  const config: ServerConfig = {
    listen: e.INFERENCE_LISTEN,
    modelsDir: e.MODELS_DIR,
    token: e.INFERENCE_TOKEN,
    metricsListen: e.METRICS_LISTEN,
    executionProvider: e.EXECUTION_PROVIDER,
    tls: e.TLS_CERT && e.TLS_KEY ? { certPath: e.TLS_CERT, keyPath: e.TLS_KEY } : undefined,
    maxQueue: e.MAX_QUEUE,
    workers: e.MODEL_WORKERS || undefined,
    intraOpThreads: e.INTRA_OP_THREADS || undefined,
    workerNiceness: e.MODEL_WORKER_NICE,
    runtimeThread: e.RUNTIME_THREAD === 1,
    limits: Object.freeze({
      maxImageBytes: e.MAX_IMAGE_BYTES,
      maxImagePixels: e.MAX_IMAGE_PIXELS,
      maxPromptChars: e.MAX_PROMPT_CHARS,
      maxChatImages: e.MAX_CHAT_IMAGES,
    }),
    revealMaxFrames: e.REVEAL_MAX_FRAMES,
    progressIntervalMs: e.PROGRESS_INTERVAL_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    defaultModel: e.DEFAULT_MODEL,
    logLevel: e.LOG_LEVEL,
  };
  return Object.freeze(config);
}

const clientSchema = z.object({
  INFERENCE_ADDRESS: z.preprocess(unsetIfEmpty, z.string().default('127.0.0.1:50051')),
  INFERENCE_TOKEN: optionalString,
  INFERENCE_TLS: z.preprocess(unsetIfEmpty, z.enum(['0', '1', 'true', 'false']).default('0')),
  INFERENCE_TLS_CA: optionalString,
});

export interface ClientConfig {
  address: string;
  token?: string;
  /** undefined = plaintext; {} = TLS with the system roots; caPath = TLS trusting that CA file. */
  tls?: { caPath?: string };
}

/** The CLI's variables (INFERENCE_ADDRESS, INFERENCE_TOKEN, INFERENCE_TLS, INFERENCE_TLS_CA). */
export function loadClientConfig(env: Env = readEnvironment()): Readonly<ClientConfig> {
  const parsed = clientSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${formatIssues(parsed.error)}`);
  const e = parsed.data;
  const tlsOn = e.INFERENCE_TLS === '1' || e.INFERENCE_TLS === 'true' || e.INFERENCE_TLS_CA !== undefined;
  return Object.freeze({
    address: e.INFERENCE_ADDRESS,
    token: e.INFERENCE_TOKEN,
    tls: tlsOn ? { caPath: e.INFERENCE_TLS_CA } : undefined,
  });
}
