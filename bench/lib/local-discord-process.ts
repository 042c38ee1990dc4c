/**
 * The local Discord server and its driver in a child process (bench/lib/local-discord-child.ts), so a
 * bot in the bench process has its event loop to itself, as it has in production where Discord runs
 * elsewhere. With both in one process, the server's work (HTTP, gateway dispatch, message records) and
 * the driver's would be counted as the bot's latency.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './reference.js';

export interface InteractionResult {
  state: 'pending' | 'acknowledged' | 'failed';
  /** Interaction created -> callback received, as the server records it. */
  ackLatencyMs: number | null;
  ephemeral: boolean;
  messageId: string | null;
  content: string;
  /** Date.now() when the message first carried a preview attachment / a final image. */
  firstPreviewAt: number | null;
  finalImageAt: number | null;
}

export interface CommandSpec {
  userId: string;
  name: string;
  options: Record<string, string | number | boolean>;
}

export type ChildRequest =
  | { op: 'createUsers'; names: string[] }
  | { op: 'runCommands'; commands: CommandSpec[] }
  | { op: 'status'; ids: string[] }
  | { op: 'results'; ids: string[] }
  | { op: 'stop' };

export type ChildReply = { seq: number; result: unknown } | { seq: number; error: string };

export interface LocalDiscordProcess {
  pid: number;
  token: string;
  restUrl: string;
  applicationId: string;
  createUsers(names: string[]): Promise<string[]>;
  /** Fires every command at once; resolves to the interaction ids. */
  runCommands(commands: CommandSpec[]): Promise<string[]>;
  status(ids: string[]): Promise<{ pending: number; lastActivity: number }>;
  results(ids: string[]): Promise<InteractionResult[]>;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./local-discord-child.ts', import.meta.url));

export async function startLocalDiscordProcess(
  opts: { timeoutMs?: number } = {},
): Promise<LocalDiscordProcess> {
  const child: ChildProcess = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let seq = 0;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then((code) => {
    for (const w of waiting.values()) w.reject(new Error(`local Discord process exited (${code})`));
    waiting.clear();
  });
  child.on('message', (raw) => {
    const reply = raw as ChildReply;
    const w = waiting.get(reply.seq);
    if (!w) return;
    waiting.delete(reply.seq);
    if ('error' in reply) w.reject(new Error(`local Discord process: ${reply.error}`));
    else w.resolve(reply.result);
  });
  const call = <T>(req: ChildRequest | null, id = ++seq): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (req) child.send({ ...req, seq: id });
    });

  const timeoutMs = opts.timeoutMs ?? 30_000;
  const info = await withTimeout(
    call<{ token: string; restUrl: string; applicationId: string }>(null, 0),
    timeoutMs,
    'local Discord process start-up',
  );

  return {
    pid: child.pid ?? 0,
    ...info,
    createUsers: (names) => call({ op: 'createUsers', names }),
    runCommands: (commands) => call({ op: 'runCommands', commands }),
    status: (ids) => call({ op: 'status', ids }),
    results: (ids) => call({ op: 'results', ids }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await call({ op: 'stop' }).catch(() => {});
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
