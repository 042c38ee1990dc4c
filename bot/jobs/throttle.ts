/**
 * Coalesces frequent updates (progress events) into at most one send per interval, always sending
 * the newest; Discord rate-limits message edits, and stale previews are worthless.
 */
export class ThrottledUpdater<T> {
  private last = Number.NEGATIVE_INFINITY;
  private pending: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly send: (value: T) => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  push(value: T): void {
    if (this.closed) return;
    this.pending = value;
    if (this.timer) return;
    const wait = Math.max(0, this.last + this.intervalMs - this.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Drops anything not yet sent and waits for a send in progress, so a final update lands last. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    await this.inFlight;
  }

  private flush(): void {
    this.timer = undefined;
    const value = this.pending;
    this.pending = undefined;
    if (value === undefined || this.closed) return;
    this.last = this.now();
    this.inFlight = this.inFlight.then(() => this.send(value)).catch(this.onError);
  }
}
