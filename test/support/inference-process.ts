/**
 * The real inference server (`inference/main.ts`) as a child process, for end-to-end tests that kill
 * it, restart it on the same port and read its memory. Ready once its log says "serving".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Capability, type MeaningPlan, planMeaningCheck, readPackageEval } from './meaning-plan.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLED_MODELS = `${REPO}models`;

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface InferenceProcessOptions {
  /** Default: a free port. Pass the old port to restart a server where the bot expects it. */
  port?: number;
  metricsPort?: number;
  modelsDir?: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface InferenceProcess {
  readonly port: number;
  readonly address: string;
  readonly metricsPort: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last ~64 KiB of its JSON log (stderr). */
  log(): string;
  /** Resident memory of the server process (all its worker threads), from /proc. */
  rssBytes(): number;
  /** GET /metrics of its Prometheus endpoint. */
  metrics(): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: no graceful shutdown, like a crash or an OOM kill. */
  kill(): Promise<void>;
  /** SIGTERM and wait (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

const LOG_KEEP = 64 * 1024;

export async function startInferenceProcess(
  options: InferenceProcessOptions = {},
): Promise<InferenceProcess> {
  const port = options.port ?? (await freePort());
  const metricsPort = options.metricsPort ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'inference/main.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      INFERENCE_LISTEN: `127.0.0.1:${port}`,
      METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
      MODELS_DIR: options.modelsDir ?? BUNDLED_MODELS,
      INFERENCE_TOKEN: '',
      TLS_CERT: '',
      TLS_KEY: '',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: '2000',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`inference server not serving after ${options.readyTimeoutMs ?? 120_000} ms`)),
      options.readyTimeoutMs ?? 120_000,
    );
    child.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-LOG_KEEP);
      if (/"msg":"serving"/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`inference server exited (${code ?? signal}) before serving:\n${log.slice(-4000)}`));
    });
  });
  const proc: InferenceProcess = {
    port,
    address: `127.0.0.1:${port}`,
    metricsPort,
    pid: child.pid!,
    child,
    log: () => log,
    rssBytes: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      if (!kb) throw new Error('no VmRSS in /proc status');
      return Number(kb) * 1024;
    },
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await ready;
  } catch (err) {
    await proc.kill();
    throw err;
  }
  return proc;
}

export interface PackageManifest {
  name: string;
  image: { size: number };
  training?: { preset?: string; [k: string]: unknown };
}

export function readManifest(modelsDir = BUNDLED_MODELS, name = 'shapes-ddt-small'): PackageManifest {
  return JSON.parse(readFileSync(`${modelsDir}/${name}/manifest.json`, 'utf8')) as PackageManifest;
}

/**
 * The bundled package is an untrained placeholder (same format) until the trained one is exported.
 * Its answers are noise, so only structural checks can pass on it.
 */
export function isPlaceholderModel(manifest = readManifest()): boolean {
  return manifest.training?.preset === 'tiny';
}

/**
 * The plan of an end-to-end meaning check whose cases are of these kinds, from the bundled package's own
 * held-out evaluation (see meaning-plan.ts); on the untrained placeholder every meaning check is skipped.
 */
export function bundledMeaningPlan(
  cases: Capability[],
  modelsDir = BUNDLED_MODELS,
  name = 'shapes-ddt-small',
): MeaningPlan {
  if (isPlaceholderModel(readManifest(modelsDir, name)))
    return { run: false, reason: 'the bundled model is the untrained placeholder' };
  return planMeaningCheck(readPackageEval(`${modelsDir}/${name}/eval.json`), cases);
}
