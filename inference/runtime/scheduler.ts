/**
 * Admission control: at most `maxRunning` requests run at once (their model calls are batched by
 * the coalescers / LLM batcher); up to `maxQueue` more wait in FIFO order with their positions
 * reported through ctx.onQueue whenever they change; beyond that, resource_exhausted.
 * A cancelled or expired request rejects at once; its work stops at its next step boundary.
 */
import { type JobContext, RuntimeError } from './api.js';
import { JobControl } from './job-control.js';

interface Waiting {
  job: JobControl;
  start: () => void;
  reject: (err: unknown) => void;
  lastReported?: string;
}

export class Scheduler {
  private readonly queue: Waiting[] = [];
  private running = 0;
  private closed = false;

  constructor(
    readonly maxQueue: number,
    readonly maxRunning: number,
  ) {}

  stats(): { queued: number; running: number; maxQueue: number } {
    return { queued: this.queue.length, running: this.running, maxQueue: this.maxQueue };
  }

  /** Runs `work` when a slot is free. The returned promise rejects early on cancel/deadline. */
  run<T>(ctx: JobContext, work: (job: JobControl) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new RuntimeError('unavailable', 'model is shutting down'));
    const job = new JobControl(ctx);
    if (job.stopped) return Promise.reject(job.stopped);
    if (this.running >= this.maxRunning || this.queue.length > 0) {
      if (this.queue.length >= this.maxQueue) {
        job.dispose();
        return Promise.reject(
          new RuntimeError(
            'resource_exhausted',
            `server busy: ${this.queue.length} jobs queued, retry later`,
          ),
        );
      }
    }
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        const work$ = Promise.resolve().then(() => work(job));
        work$.then(resolve, reject).finally(() => {
          job.dispose();
          this.running--;
          this.drain();
        });
        job.onStop(reject);
      };
      const waiting: Waiting = { job, start, reject };
      job.onStop((err) => {
        const i = this.queue.indexOf(waiting);
        if (i < 0) return;
        this.queue.splice(i, 1);
        reject(err);
        this.reportPositions();
      });
      if (this.running < this.maxRunning && this.queue.length === 0) start();
      else {
        this.queue.push(waiting);
        this.reportPositions();
      }
    });
  }

  /** Rejects everything still queued (running work finishes or is cancelled by its callers). */
  close(): void {
    this.closed = true;
    for (const w of this.queue.splice(0)) {
      w.job.dispose();
      w.reject(new RuntimeError('unavailable', 'model is shutting down'));
    }
  }

  private drain(): void {
    while (this.running < this.maxRunning && this.queue.length > 0) this.queue.shift()!.start();
    this.reportPositions();
  }

  private reportPositions(): void {
    const queueLength = this.queue.length;
    this.queue.forEach((w, i) => {
      const key = `${i + 1}/${queueLength}`;
      if (w.lastReported === key) return;
      w.lastReported = key;
      w.job.ctx.onQueue?.({ position: i + 1, queueLength });
    });
  }
}
