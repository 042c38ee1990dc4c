/**
 * Dynamic batching of stateless graph calls (encoder, denoiser step): calls made while a slot is busy,
 * or within the same event-loop turn, run together as one batch of at most `maxRows` rows.
 */
export interface Batchable {
  rows: number; // batch rows this call contributes
}

export class Coalescer<I extends Batchable, O> {
  private pending: { input: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private running = 0;
  private scheduled = false;

  /** `run` gets the inputs of one batch and returns one output per input, in order. */
  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly maxRows: number,
    private readonly maxConcurrent: number,
  ) {}

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.maxConcurrent || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.running >= this.maxConcurrent || this.pending.length === 0) return;
    const batch: typeof this.pending = [];
    let rows = 0;
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (batch.length > 0 && rows + next.input.rows > this.maxRows) break;
      batch.push(this.pending.shift()!);
      rows += next.input.rows;
    }
    this.running++;
    this.run(batch.map((b) => b.input))
      .then(
        (outputs) => {
          batch.forEach((b, i) => {
            b.resolve(outputs[i]!);
          });
        },
        (err: unknown) => {
          for (const b of batch) b.reject(err);
        },
      )
      .finally(() => {
        this.running--;
        this.schedule();
      });
    this.schedule();
  }
}
