/** Main-thread handle of one model worker: request/response over postMessage, typed arrays transferred. */
import { Worker } from 'node:worker_threads';
import { RuntimeError } from './api.js';
import type { Envelope, Reply, WorkerRequest, WorkerResults } from './worker-protocol.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class WorkerClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;
  /** Requests sent and not yet answered (used to pick the least busy worker). */
  inFlight = 0;
  /** Resolved by settle()/fail() when the last pending call has answered (set while terminate() waits). */
  private drained: (() => void) | undefined;

  constructor(readonly index: number) {
    this.worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), { name: `ddt-model-${index}` });
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`model worker exited with code ${code}`)));
  }

  call<Op extends WorkerRequest['op']>(
    request: Extract<WorkerRequest, { op: Op }>,
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerResults[Op]> {
    if (this.dead)
      return Promise.reject(new RuntimeError('unavailable', `model worker is down: ${this.dead.message}`));
    const id = this.nextId++;
    this.inFlight++;
    return new Promise<WorkerResults[Op]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, request } satisfies Envelope, transfer);
    });
  }

  /**
   * Stops the worker after its calls in flight have answered (at most `graceMs`): terminating a thread
   * inside an ONNX Runtime call (session creation or run) aborts the whole process with a native error.
   */
  async terminate(graceMs = 5000): Promise<void> {
    this.dead ??= new Error('closed');
    if (this.pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.drained = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    await this.worker.terminate();
  }

  private settle(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    this.inFlight--;
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new Error(reply.message));
    if (this.pending.size === 0) this.drained?.();
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values())
      p.reject(new RuntimeError('unavailable', `model worker failed: ${err.message}`));
    this.pending.clear();
    this.inFlight = 0;
    this.drained?.();
  }
}
