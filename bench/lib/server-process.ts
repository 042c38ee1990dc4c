/**
 * The real inference server (`inference/main.ts`) as a child process, as it is deployed: its own event
 * loop and memory, so client load and RSS are measured apart from the bench process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createInferenceClient, type InferenceClient } from '../../inference/client/client.js';
import { type Rss, readRss } from './proc.js';
import { withTimeout } from './reference.js';

export interface ServerProcess {
  pid: number;
  address: string;
  /** RSS right after the models were loaded and warmed (SERVING). */
  rssAtReady: Rss;
  startupMs: number;
  client(): InferenceClient;
  rss(): Rss | undefined;
  stop(): Promise<void>;
}

export async function startServerProcess(opts: {
  repoRoot: string;
  modelsDir: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Entry point and its arguments (default: the real server, inference/main.ts). */
  entry?: string[];
}): Promise<ServerProcess> {
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', ...(opts.entry ?? ['inference/main.ts'])],
    {
      cwd: opts.repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        INFERENCE_LISTEN: '127.0.0.1:0',
        MODELS_DIR: opts.modelsDir,
        LOG_LEVEL: 'info',
        INFERENCE_TOKEN: '',
        METRICS_LISTEN: '',
        ...opts.env,
      },
    },
  );
  const tail: string[] = [];
  let port: number | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'listening') port = entry.port;
      if (entry.msg === 'serving') resolve();
    });
    child.once('exit', (code) => reject(new Error(`inference server exited (${code}):\n${tail.join('\n')}`)));
  });
  try {
    await withTimeout(ready, opts.timeoutMs ?? 120_000, 'inference server start-up');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const pid = child.pid!;
  const address = `127.0.0.1:${port}`;
  const clients: InferenceClient[] = [];
  return {
    pid,
    address,
    rssAtReady: readRss(pid) ?? { rss: Number.NaN, peak: Number.NaN },
    startupMs: performance.now() - started,
    client: () => {
      const c = createInferenceClient({ address });
      clients.push(c);
      return c;
    },
    rss: () => readRss(pid),
    stop: async () => {
      for (const c of clients) c.close();
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
