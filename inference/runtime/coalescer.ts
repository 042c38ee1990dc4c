/**
 * Dynamic batching of stateless graph calls (encoder, denoiser step): calls made while a slot is busy,
 * or within the same event-loop turn, run together as one batch of at most `maxRows` rows.
 */
import { BatchQueue } from './batch-queue.js';

export interface Batchable {
  rows: number; // batch rows this call contributes
}

interface PendingCall<I, O> {
  input: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class Coalescer<I extends Batchable, O> {
  private readonly queue: BatchQueue<PendingCall<I, O>>;

  /** `run` gets the inputs of one batch and returns one output per input, in order. */
  constructor(run: (inputs: I[]) => Promise<O[]>, maxRows: number, maxConcurrent: number) {
    this.queue = new BatchQueue({
      rows: (call) => call.input.rows,
      maxRows,
      maxConcurrent,
      run: (batch) =>
        run(batch.map((b) => b.input)).then(
          (outputs) => {
            batch.forEach((b, i) => {
              b.resolve(outputs[i]!);
            });
          },
          (err: unknown) => {
            for (const b of batch) b.reject(err);
          },
        ),
    });
  }

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
    });
  }
}
