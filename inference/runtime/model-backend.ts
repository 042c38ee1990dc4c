/**
 * What the runtime needs from the graphs, as plain async functions over typed arrays. The worker
 * implementation spreads batches over a pool of model workers; tests substitute stubs.
 */
import type { DenoiseInput, RenderInput } from './diffusion.js';
import type { LlmSession } from './llm-batch.js';
import type { WorkerClient } from './worker-client.js';
import type { ScoreRequest } from './worker-protocol.js';

export interface ModelBackend {
  /** pixels [B, 3, H, W] -> codes [B, K] (code order). */
  encode(pixels: Float32Array, batch: number): Promise<BigInt64Array>;
  /** One denoiser evaluation -> x0 [B, C, H, W]. */
  denoise(input: DenoiseInput): Promise<Float32Array>;
  /** One-step renderer: codes [B, K] + mask [B, K] -> x0 [B, C, h, w]. Only packages with graphs.renderer. */
  render?(input: RenderInput): Promise<Float32Array>;
  /** Normalised latent [B, C, h, w] -> model pixels [B, 3, H, W]. Only latent (VAE) packages. */
  vaeDecode?(latent: Float32Array, batch: number): Promise<Float32Array>;
  /** A new LLM batch session (KV cache stays in one worker). */
  openLlm(): LlmSession;
  /** Summed log-probabilities of each padded row's last tokens (worker-protocol.ts, ScoreRequest). */
  scoreLlm?(request: Omit<ScoreRequest, 'op'>): Promise<Float64Array>;
  readonly parallelism: number; // independent batches that can run at once
  close(): Promise<void>;
}

let nextSessionId = 1;

/** ModelBackend over loaded model workers (each holds every graph of the package). */
export class WorkerBackend implements ModelBackend {
  /** Open LLM sessions per worker: a session keeps its KV cache, and so its worker, for its whole batch. */
  private readonly llmSessions: Map<WorkerClient, number>;

  /** `wide`: the worker holding a wide denoiser session (SessionTuning.wideDenoiserThreads), if any. */
  constructor(
    private readonly workers: WorkerClient[],
    private readonly wide?: WorkerClient,
  ) {
    this.llmSessions = new Map(workers.map((w) => [w, 0]));
  }

  get parallelism(): number {
    return this.workers.length;
  }

  async encode(pixels: Float32Array, batch: number): Promise<BigInt64Array> {
    return this.pick().call({ op: 'encode', pixels, batch }, [pixels.buffer as ArrayBuffer]);
  }

  async scoreLlm(request: Omit<ScoreRequest, 'op'>): Promise<Float64Array> {
    return this.pick().call({ op: 'llmScore', ...request });
  }

  async denoise(input: DenoiseInput): Promise<Float32Array> {
    const { xT, t, codes, mask, batch } = input;
    // one row cannot be split over workers; while all are idle, the wide session runs it on every core
    if (this.wide && batch === 1 && this.workers.every((w) => w.inFlight === 0)) {
      return this.wide.call({ op: 'denoise', xT, t, codes, mask, batch, wide: true });
    }
    return this.pick().call({ op: 'denoise', xT, t, codes, mask, batch });
  }

  async render(input: RenderInput): Promise<Float32Array> {
    const { codes, mask, batch } = input;
    return this.pick().call({ op: 'render', codes, mask, batch });
  }

  async vaeDecode(latent: Float32Array, batch: number): Promise<Float32Array> {
    return this.pick().call({ op: 'vaeDecode', latent, batch });
  }

  openLlm(): LlmSession {
    // The worker with the fewest open sessions, not the least busy one at this instant: a running batch's
    // worker is idle between its steps (the main thread samples), and two batches pinned to one worker
    // would run one after the other while the other worker waits for denoiser chunks.
    const worker = this.workers.reduce((a, b) => {
      const [sa, sb] = [this.llmSessions.get(a)!, this.llmSessions.get(b)!];
      return sb < sa || (sb === sa && b.inFlight < a.inFlight) ? b : a;
    });
    this.llmSessions.set(worker, this.llmSessions.get(worker)! + 1);
    let released = false;
    const sessionId = nextSessionId++;
    return {
      prefill: (inputIds, attentionMask, positionIds, batch, seqLen) =>
        worker.call({ op: 'llmPrefill', sessionId, inputIds, attentionMask, positionIds, batch, seqLen }),
      step: (inputIds, attentionMask, positionIds, batch) =>
        worker.call({ op: 'llmStep', sessionId, inputIds, attentionMask, positionIds, batch }),
      join: (inputIds, attentionMask, positionIds, batch, seqLen) =>
        worker.call({ op: 'llmJoin', sessionId, inputIds, attentionMask, positionIds, batch, seqLen }),
      keepRows: async (rows, dropColumns) => {
        await worker.call({ op: 'llmKeepRows', sessionId, rows, dropColumns });
      },
      release: () => {
        if (released) return;
        released = true;
        this.llmSessions.set(worker, this.llmSessions.get(worker)! - 1);
        worker.call({ op: 'llmRelease', sessionId }).catch(() => {});
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private pick(): WorkerClient {
    return this.workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
  }
}
