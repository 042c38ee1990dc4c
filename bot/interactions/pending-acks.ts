/**
 * Interactions the bot has received but not yet acknowledged. Discord fails an interaction that is not
 * acknowledged within 3 s, and in a burst (many users at once) every acknowledgement queues behind whatever
 * else the event loop does. Work that follows an acknowledgement and can wait a little (storing the job,
 * its first message edit, opening the inference stream) therefore waits in `afterAcks()` until no
 * acknowledgement is outstanding, released one waiter per turn of the event loop so that newly arrived
 * interactions go first; never longer than `maxWaitMs`.
 */
export interface PendingAcksOptions {
  /** Longest a waiter is held back while acknowledgements keep coming. */
  maxWaitMs: number;
  /** An interaction still not acknowledged after this long no longer counts (Discord: 3 s). */
  ackWindowMs: number;
}

export class PendingAcks {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly waiters: (() => void)[] = [];
  private scheduled = false;

  constructor(private readonly options: PendingAcksOptions) {}

  /** How many interactions are waiting for their acknowledgement. */
  get size(): number {
    return this.pending.size;
  }

  /** An interaction arrived: it counts until `settled` (or for at most ackWindowMs). */
  received(interactionId: string): void {
    if (this.pending.has(interactionId)) return;
    const expire = setTimeout(() => this.settled(interactionId), this.options.ackWindowMs);
    expire.unref();
    this.pending.set(interactionId, expire);
  }

  /** Acknowledged (the callback request returned), failed, or handled without an acknowledgement. */
  settled(interactionId: string): void {
    const expire = this.pending.get(interactionId);
    if (!expire) return;
    clearTimeout(expire);
    this.pending.delete(interactionId);
    if (this.pending.size === 0) this.schedule();
  }

  /** Resolves once no acknowledgement is outstanding (or after maxWaitMs), at the earliest on the next turn. */
  afterAcks(): Promise<void> {
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        const i = this.waiters.indexOf(release);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(release, this.options.maxWaitMs);
      this.waiters.push(release);
      this.schedule();
    });
  }

  /** Releases every waiter at once (shutdown). */
  releaseAll(): void {
    for (const release of [...this.waiters]) release();
  }

  private schedule(): void {
    if (this.scheduled || this.waiters.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.pending.size > 0) return; // settled() schedules again when the last one is acknowledged
      this.waiters[0]?.();
      this.schedule();
    });
  }
}

/** The interaction id of an interaction callback request path (`/interactions/{id}/{token}/callback`). */
export function callbackInteractionId(path: string): string | undefined {
  const m = /^\/interactions\/(\d+)\/[^/]+\/callback/.exec(path);
  return m?.[1];
}
