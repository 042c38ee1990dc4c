/**
 * The bot in a child process of its own (bench/lib/bot-child.ts), as in production: the bot suite measures
 * the bot's event loop, not the bench process's, which holds the earlier suites' clients and heap.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './reference.js';

export interface BotChildSettings {
  token: string;
  restUrl: string;
  inferenceAddress: string;
  dbPath: string;
}

export type BotChildEvent =
  | { kind: 'ready'; progressIntervalMs: number; at: number }
  | { kind: 'jobStart'; seed: string; at: number }
  | { kind: 'preview'; seed: string; at: number }
  | { kind: 'active'; active: number; at: number };

export interface BotProcess {
  pid: number;
  progressIntervalMs: number;
  /** Seed -> Date.now() when the bot called Generate for it. */
  jobStart: Map<string, number>;
  /** Seed -> Date.now() when the first progress event with a preview reached the bot. */
  previewEvent: Map<string, number>;
  /** Open Generate streams, and Date.now() of the last job activity. */
  activity(): { active: number; lastActivity: number };
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./bot-child.ts', import.meta.url));

export async function startBotProcess(settings: BotChildSettings, timeoutMs = 30_000): Promise<BotProcess> {
  const child: ChildProcess = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_BOT_SETTINGS: JSON.stringify(settings) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const jobStart = new Map<string, number>();
  const previewEvent = new Map<string, number>();
  let active = 0;
  let lastActivity = Date.now();
  let onReady: (e: { progressIntervalMs: number }) => void = () => {};
  child.on('message', (raw) => {
    const e = raw as BotChildEvent;
    lastActivity = Math.max(lastActivity, e.at);
    if (e.kind === 'ready') onReady(e);
    else if (e.kind === 'jobStart') jobStart.set(e.seed, e.at);
    else if (e.kind === 'preview') previewEvent.set(e.seed, e.at);
    else active = e.active;
  });
  const ready = await withTimeout(
    Promise.race([
      new Promise<{ progressIntervalMs: number }>((resolve) => {
        onReady = resolve;
      }),
      exited.then(() =>
        Promise.reject(new Error(`bot process exited (${child.exitCode}) before it was ready`)),
      ),
    ]),
    timeoutMs,
    'bot process start-up',
  );
  return {
    pid: child.pid ?? 0,
    progressIntervalMs: ready.progressIntervalMs,
    jobStart,
    previewEvent,
    activity: () => ({ active, lastActivity }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ op: 'stop' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(killer);
    },
  };
}
