/** Cancellation and deadline of one request: checked between model steps, and raced against waiting. */
import { type JobContext, RuntimeError } from './api.js';

export class JobControl {
  private reason: RuntimeError | undefined;
  private readonly listeners: ((err: RuntimeError) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.stop(new RuntimeError('cancelled', 'request cancelled'));
  /** Model steps this request took part in (tests and metrics). */
  steps = 0;

  constructor(readonly ctx: JobContext) {
    if (ctx.signal.aborted) this.onAbort();
    else ctx.signal.addEventListener('abort', this.onAbort, { once: true });
    if (ctx.deadline !== undefined && !this.reason) {
      const ms = ctx.deadline - Date.now();
      const expire = () => this.stop(new RuntimeError('deadline_exceeded', 'deadline exceeded'));
      if (ms <= 0) expire();
      else this.timer = setTimeout(expire, ms);
    }
  }

  get stopped(): RuntimeError | undefined {
    return this.reason;
  }

  /** Throws the cancellation/deadline error if the request should stop. Call between model steps. */
  throwIfStopped(): void {
    if (this.reason) throw this.reason;
  }

  /** Registers a callback for when the request stops (called at once if already stopped). */
  onStop(listener: (err: RuntimeError) => void): void {
    if (this.reason) listener(this.reason);
    else this.listeners.push(listener);
  }

  stop(err: RuntimeError): void {
    if (this.reason) return;
    this.reason = err;
    this.dispose();
    for (const l of this.listeners.splice(0)) l(err);
  }

  /** Removes the abort listener and deadline timer (the request is over). */
  dispose(): void {
    this.ctx.signal.removeEventListener('abort', this.onAbort);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
