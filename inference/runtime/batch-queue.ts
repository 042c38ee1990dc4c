/**
 * The queue behind dynamic batching: items pushed while every slot is busy, or within the same
 * event-loop turn, are handed out together, in order, as batches of at most `maxRows` rows, to at
 * most `maxConcurrent` runs at a time. An item pushed while a batch runs waits for a later batch.
 */
export interface BatchQueueOptions<T> {
  /** Batch rows the item contributes. */
  rows(item: T): number;
  maxRows: number;
  maxConcurrent: number;
  /** Runs one batch and settles its items; never rejects. Its settling frees the slot. */
  run(batch: T[]): Promise<unknown>;
  /** Items it returns true for are dropped (it settles them itself) before a batch is taken. */
  discard?(item: T): boolean;
}

export class BatchQueue<T> {
  private pending: T[] = [];
  private running = 0;
  private scheduled = false;

  constructor(private readonly o: BatchQueueOptions<T>) {}

  /** Every slot runs a batch: a pushed item would wait for one to finish. */
  get saturated(): boolean {
    return this.running >= this.o.maxConcurrent;
  }

  push(item: T): void {
    this.pending.push(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.o.maxConcurrent || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.start();
    });
  }

  private start(): void {
    if (this.running >= this.o.maxConcurrent || this.pending.length === 0) return;
    const discard = this.o.discard;
    if (discard) {
      this.pending = this.pending.filter((item) => !discard(item));
      if (this.pending.length === 0) return;
    }
    const batch: T[] = [];
    let rows = 0;
    while (this.pending.length > 0) {
      const n = this.o.rows(this.pending[0]!);
      if (batch.length > 0 && rows + n > this.o.maxRows) break;
      batch.push(this.pending.shift()!);
      rows += n;
    }
    this.running++;
    void this.o.run(batch).finally(() => {
      this.running--;
      this.schedule();
    });
    this.schedule();
  }
}
