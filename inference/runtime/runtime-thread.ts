/**
 * The model runtime on a thread of its own (`RUNTIME_THREAD`, on by default in the server): every loaded
 * package is served by a worker thread (runtime-thread-worker.ts) and the main thread holds ModelRuntime
 * proxies that forward each call and its job hooks as messages. The scheduler, token sampling, diffusion
 * updates and caption reranking then run, and make their garbage, off the thread that answers gRPC, so a
 * health check or a stream event does not wait behind them (BENCHMARKS.md, "Session 20").
 */
import { Worker } from 'node:worker_threads';
import {
  type Answer,
  type ChatAnswer,
  type ChatTurn,
  type GeneratedImage,
  type JobContext,
  type ModelDescription,
  type ModelRuntime,
  type RgbImage,
  RuntimeError,
  type SamplingParams,
} from './api.js';
import type { LoadOptions } from './package-loader.js';
import {
  deserializeError,
  type FromThread,
  hookFlags,
  type RuntimeStats,
  type ThreadCall,
  type ThreadData,
  type ToThread,
} from './runtime-thread-protocol.js';

interface PendingCall {
  ctx: JobContext;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onAbort: () => void;
}

/** One runtime thread and the calls in flight on it. */
class RuntimeThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, PendingCall>();
  private readonly stats = new Map<string, RuntimeStats>();
  private nextId = 1;
  private down: Error | undefined;
  private openModels = 0;
  private closing: Promise<void> | undefined;
  private onClosed: (() => void) | undefined;
  readonly ready: Promise<ModelDescription[]>;

  constructor(
    data: ThreadData,
    private readonly onDown?: (err: Error) => void,
  ) {
    this.worker = new Worker(new URL('./runtime-thread-entry.mjs', import.meta.url), {
      name: 'ddt-runtime',
      workerData: data,
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (msg: FromThread) => {
        if (msg.type === 'ready') {
          for (const m of msg.models) this.stats.set(m.description.name, m.stats);
          this.openModels = msg.models.length;
          resolve(msg.models.map((m) => m.description));
        } else if (msg.type === 'load-failed') {
          this.down = deserializeError(msg.error); // the thread stops next: expected, not a crash
          reject(this.down);
        } else this.receive(msg);
      });
      const fail = (err: Error) => {
        const unexpected = this.down === undefined && this.closing === undefined;
        reject(err);
        this.stopped(err);
        if (unexpected) this.onDown?.(err);
      };
      this.worker.on('error', fail);
      this.worker.on('exit', (code) => fail(new Error(`runtime thread exited with code ${code}`)));
    });
    this.ready.catch(() => {}); // the caller of loadModelsInThread sees it
  }

  statsOf(model: string): RuntimeStats {
    return this.stats.get(model) ?? { queued: 0, running: 0, maxQueue: 0 };
  }

  call(model: string, call: ThreadCall, ctx: JobContext): Promise<unknown> {
    if (this.down || this.closing) return Promise.reject(this.unavailable());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => this.post({ type: 'cancel', id });
      this.pending.set(id, { ctx, resolve, reject, onAbort });
      this.post({
        type: 'call',
        id,
        model,
        call,
        hooks: hookFlags(ctx),
        ...(ctx.deadline !== undefined ? { deadline: ctx.deadline } : {}),
        ...(ctx.previews !== undefined ? { previews: ctx.previews } : {}),
      });
      // the runtime itself refuses an aborted job, so an already aborted signal is forwarded, not judged here
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Closes the thread once every model on it has been closed (each proxy's close() counts one). */
  async release(): Promise<void> {
    this.openModels--;
    if (this.openModels > 0) return;
    this.closing ??= new Promise<void>((resolve) => {
      this.onClosed = resolve;
      if (this.down) resolve();
      else this.post({ type: 'close' });
    }).then(() => this.worker.terminate().then(() => undefined));
    await this.closing;
  }

  private receive(msg: Exclude<FromThread, { type: 'ready' | 'load-failed' }>): void {
    if (msg.type === 'stats') {
      for (const [name, s] of Object.entries(msg.stats)) this.stats.set(name, s);
      return;
    }
    if (msg.type === 'closed') {
      this.stopped(new Error('closed'));
      return;
    }
    const call = this.pending.get(msg.id);
    if (!call) return; // settled already
    if (msg.type === 'queue') call.ctx.onQueue?.(msg.event);
    else if (msg.type === 'progress') call.ctx.onProgress?.(msg.event);
    else if (msg.type === 'text') call.ctx.onTextDelta?.(msg.delta);
    else if (msg.type === 'result') this.settle(msg.id, call, () => call.resolve(msg.value));
    else this.settle(msg.id, call, () => call.reject(deserializeError(msg.error)));
  }

  /** The thread is gone (closed, crashed or never loaded): calls still pending get UNAVAILABLE. */
  private stopped(err: Error): void {
    this.down ??= err;
    for (const [id, call] of this.pending) this.settle(id, call, () => call.reject(this.unavailable()));
    this.onClosed?.();
  }

  private settle(id: number, call: PendingCall, done: () => void): void {
    this.pending.delete(id);
    call.ctx.signal.removeEventListener('abort', call.onAbort);
    done();
  }

  private post(msg: ToThread): void {
    this.worker.postMessage(msg);
  }

  private unavailable(): RuntimeError {
    return new RuntimeError('unavailable', `the model runtime is down: ${this.down?.message ?? 'closing'}`);
  }
}

/** A ModelRuntime whose calls run on the runtime thread. */
class ThreadRuntime implements ModelRuntime {
  constructor(
    private readonly thread: RuntimeThread,
    readonly description: ModelDescription,
  ) {}

  private run<T>(call: ThreadCall, ctx: JobContext): Promise<T> {
    return this.thread.call(this.description.name, call, ctx) as Promise<T>;
  }

  caption(image: RgbImage, ctx: JobContext): Promise<string> {
    return this.run({ method: 'caption', args: [image] }, ctx);
  }
  ask(image: RgbImage, question: string, ctx: JobContext): Promise<Answer> {
    return this.run({ method: 'ask', args: [image, question] }, ctx);
  }
  generate(
    prompt: string,
    count: number,
    params: SamplingParams,
    ctx: JobContext,
  ): Promise<GeneratedImage[]> {
    return this.run({ method: 'generate', args: [prompt, count, params] }, ctx);
  }
  edit(
    image: RgbImage,
    instruction: string,
    count: number,
    params: SamplingParams,
    ctx: JobContext,
  ): Promise<GeneratedImage[]> {
    return this.run({ method: 'edit', args: [image, instruction, count, params] }, ctx);
  }
  chat(turns: ChatTurn[], params: SamplingParams, ctx: JobContext): Promise<ChatAnswer> {
    return this.run({ method: 'chat', args: [turns, params] }, ctx);
  }
  blend(
    a: RgbImage,
    b: RgbImage,
    range: { from: number; to: number },
    params: SamplingParams,
    ctx: JobContext,
  ): Promise<GeneratedImage> {
    return this.run({ method: 'blend', args: [a, b, range, params] }, ctx);
  }
  encode(image: RgbImage, ctx: JobContext): Promise<number[]> {
    return this.run({ method: 'encode', args: [image] }, ctx);
  }
  decode(tokens: number[], keep: number, params: SamplingParams, ctx: JobContext): Promise<RgbImage> {
    return this.run({ method: 'decode', args: [tokens, keep, params] }, ctx);
  }
  reveal(tokens: number[], params: SamplingParams, ctx: JobContext, keeps?: number[]): Promise<RgbImage[]> {
    return this.run({ method: 'reveal', args: [tokens, params, keeps] }, ctx);
  }
  stats(): RuntimeStats {
    return this.thread.statsOf(this.description.name);
  }
  close(): Promise<void> {
    return this.thread.release();
  }
}

/** How the runtime thread reports to the main thread, and what happens if it stops. */
export interface ThreadReporting {
  /** How stale stats() may be while jobs run (ms; default 50). */
  statsIntervalMs?: number;
  /**
   * Called once if the thread stops other than by close() (a crash in the runtime): calls in flight and later
   * calls get UNAVAILABLE. The server exits on it, as it would have crashed with the runtime in process.
   */
  onDown?: (err: Error) => void;
  /**
   * At most one plain progress event (no preview) per job per this many ms is sent across (ProgressGate; the
   * newest held one before anything else of the job); default 0, every event. The server passes its
   * PROGRESS_INTERVAL_MS, the rate it writes them to clients at anyway.
   */
  progressIntervalMs?: number;
}

/**
 * loadModels (package-loader.ts) on a runtime thread: the same packages, options, errors and ModelRuntime
 * behaviour, keyed by manifest name.
 */
export async function loadModelsInThread(
  modelsDir: string,
  options: LoadOptions,
  reporting: ThreadReporting = {},
): Promise<Map<string, ModelRuntime>> {
  const thread = new RuntimeThread(
    {
      modelsDir,
      options,
      statsIntervalMs: reporting.statsIntervalMs ?? 50,
      progressIntervalMs: reporting.progressIntervalMs ?? 0,
    },
    reporting.onDown,
  );
  const descriptions = await thread.ready;
  return new Map(descriptions.map((d) => [d.name, new ThreadRuntime(thread, d)]));
}
