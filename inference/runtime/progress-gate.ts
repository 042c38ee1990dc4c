/**
 * Rate-limits one job's plain progress events (no preview) to one per interval. The runtime reports every
 * model step, hundreds a second under load; each forwarded event costs its receiver (a stream write, a message
 * to another thread). An event arriving sooner than the interval after the last one sent is held, a newer one
 * replaces it (progress is a state, not a log), and the held one is sent when the interval is over, or by
 * release() before whatever the job sends next, so the order is kept and the last progress is never lost. The
 * first event and events with a preview are never held. Interval 0: every event at once.
 */
import type { ProgressEvent } from './api.js';

export class ProgressGate {
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private held: ProgressEvent | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly send: (e: ProgressEvent) => void,
  ) {}

  offer(e: ProgressEvent): void {
    const now = performance.now();
    if (e.preview || now - this.lastSentAt >= this.intervalMs) {
      this.take(); // superseded by this one
      this.emit(e);
      return;
    }
    this.held = e;
    this.timer ??= setTimeout(() => this.release(), this.lastSentAt + this.intervalMs - now).unref();
  }

  /** Sends the held event, if any, ahead of whatever comes next. */
  release(): void {
    const e = this.take();
    if (e) this.emit(e);
  }

  /** Forgets the held event and its timer; returns the event. */
  private take(): ProgressEvent | undefined {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const e = this.held;
    this.held = undefined;
    return e;
  }

  private emit(e: ProgressEvent): void {
    this.lastSentAt = performance.now();
    this.send(e);
  }
}
