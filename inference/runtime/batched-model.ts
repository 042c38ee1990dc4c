/**
 * Batching front of a ModelBackend, shared by all requests of one model:
 * - encoder: concurrent image encodes run as one [B, 3, H, W] call;
 * - denoiser: concurrent denoising steps of any requests (any t, keep, step count) run as one batch;
 * - LLM: token streams that start together decode in one left-padded KV-cache batch (llm-batch.ts).
 */
import { Coalescer } from './coalescer.js';
import type { DenoiseInput } from './diffusion.js';
import { type DecodeStream, LlmBatcher } from './llm-batch.js';
import type { ModelBackend } from './model-backend.js';

export interface BatchCounters {
  encodeCalls: number;
  denoiseCalls: number;
  denoiseRows: number;
  llmCalls: number;
  llmRows: number;
}

export class BatchedModel {
  readonly counters: BatchCounters = {
    encodeCalls: 0,
    denoiseCalls: 0,
    denoiseRows: 0,
    llmCalls: 0,
    llmRows: 0,
  };
  private readonly encoder: Coalescer<{ rows: number; pixels: Float32Array }, number[]>;
  private readonly denoiser: Coalescer<DenoiseInput & { rows: number }, Float32Array>;
  private readonly llm: LlmBatcher;

  constructor(
    private readonly backend: ModelBackend,
    opts: { maxBatch: number; perImage: number; padId: number },
  ) {
    const K = opts.perImage;
    const slots = backend.parallelism;
    this.encoder = new Coalescer(
      async (inputs) => {
        this.counters.encodeCalls++;
        const size = inputs[0]!.pixels.length;
        const pixels = new Float32Array(inputs.length * size); // [B, 3, H, W]
        inputs.forEach((inp, b) => {
          pixels.set(inp.pixels, b * size);
        });
        const codes = await backend.encode(pixels, inputs.length); // [B, K] int64
        return inputs.map((_, b) => Array.from(codes.subarray(b * K, (b + 1) * K), Number));
      },
      opts.maxBatch,
      slots,
    );
    this.denoiser = new Coalescer(
      async (inputs) => {
        const merged = mergeDenoiseInputs(inputs);
        this.counters.denoiseCalls++;
        this.counters.denoiseRows += merged.batch;
        const x0 = await backend.denoise(merged); // [B, C, H, W]
        return splitRows(
          x0,
          inputs.map((i) => i.batch),
          merged.batch,
        );
      },
      opts.maxBatch * 2,
      slots,
    );
    this.llm = new LlmBatcher(
      () => backend.openLlm(),
      opts.padId,
      opts.maxBatch * 2,
      slots,
      (rows) => {
        this.counters.llmCalls++;
        this.counters.llmRows += rows;
      },
    );
  }

  /** pixels [3, H, W] -> K codes (code order). */
  encode(pixels: Float32Array): Promise<number[]> {
    return this.encoder.call({ rows: 1, pixels });
  }

  denoise(input: DenoiseInput): Promise<Float32Array> {
    return this.denoiser.call({ ...input, rows: input.batch });
  }

  decode(stream: DecodeStream): Promise<void> {
    return this.llm.submit(stream);
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}

/** Concatenates denoiser inputs along the batch dimension. */
export function mergeDenoiseInputs(inputs: DenoiseInput[]): DenoiseInput {
  if (inputs.length === 1) return inputs[0]!;
  const cat = <T extends Float32Array | BigInt64Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p as never, at);
      at += p.length;
    }
    return out;
  };
  return {
    xT: cat(
      inputs.map((i) => i.xT),
      (n) => new Float32Array(n),
    ), // [B, C, H, W]
    t: cat(
      inputs.map((i) => i.t),
      (n) => new Float32Array(n),
    ), // [B]
    codes: cat(
      inputs.map((i) => i.codes),
      (n) => new BigInt64Array(n),
    ), // [B, K]
    mask: cat(
      inputs.map((i) => i.mask),
      (n) => new Float32Array(n),
    ), // [B, K]
    batch: inputs.reduce((n, i) => n + i.batch, 0),
  };
}

/** Splits a [B, ...] array into consecutive parts of the given row counts. */
export function splitRows(data: Float32Array, rows: number[], total: number): Float32Array[] {
  const rowSize = data.length / total;
  let at = 0;
  return rows.map((n) => {
    const part = data.slice(at * rowSize, (at + n) * rowSize);
    at += n;
    return part;
  });
}
