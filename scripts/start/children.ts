/**
 * Child processes of `npm start`: each runs a TypeScript entry point through tsx, its output is
 * prefixed with its name, and the whole group stops together.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export type Env = Record<string, string | undefined>;

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

function prefixLines(stream: NodeJS.ReadableStream | null, prefix: string, out: NodeJS.WriteStream): void {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
    out.write(`${prefix} ${line}\n`),
  );
}

/** Runs `node --import tsx <entry> ...args` from `cwd` with exactly `env`. */
export function startChild(name: string, entry: string, args: string[], env: Env, cwd: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl+C reaches only `npm start`, which stops the children in order (bot
    // first) with one SIGTERM each. In the terminal's group they would get SIGINT and then our SIGTERM,
    // which the inference server takes as "second signal: exit now" and skips its graceful shutdown.
    detached: true,
  });
  // If `npm start` exits without stopping it (a crash), do not leave it running on its own.
  const orphanGuard = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', orphanGuard);
  child.once('close', () => process.off('exit', orphanGuard));
  const prefix = `[${name}]`;
  prefixLines(child.stdout, prefix, process.stdout);
  prefixLines(child.stderr, prefix, process.stderr);
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`${prefix} could not start: ${err.message}\n`);
      resolve(1);
    });
    // 'close', not 'exit': by then its last output lines (often the error) have been printed.
    child.once('close', (code, signal) => resolve(code ?? signal ?? 1));
  });
  return { name, process: child, exited };
}

/** Runs an entry point to completion; rejects with its output's last lines when it fails. */
export async function runChild(name: string, entry: string, args: string[], env: Env, cwd: string) {
  const child = startChild(name, entry, args, env, cwd);
  const result = await child.exited;
  if (result !== 0) throw new Error(`${name} failed (exit ${result}); see the [${name}] lines above`);
}

/** SIGTERM to each running child, SIGKILL to those still alive after `graceMs`. */
export async function stopChildren(children: readonly Child[], graceMs: number): Promise<void> {
  const running = children.filter((c) => c.process.exitCode === null && c.process.signalCode === null);
  for (const c of running) c.process.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of running) if (c.process.exitCode === null) c.process.kill('SIGKILL');
  }, graceMs);
  await Promise.all(running.map((c) => c.exited));
  clearTimeout(timer);
}
