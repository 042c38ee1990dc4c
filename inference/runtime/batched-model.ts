/**
 * Batching front of a ModelBackend, shared by all requests of one model:
 * - encoder: concurrent image encodes run as one [B, 3, H, W] call;
 * - denoiser: concurrent denoising steps of any requests (any t, keep, step count) run as one batch;
 * - renderer and vae_decoder (packages that have them): concurrent calls run as one batch;
 * - LLM: token streams that start together decode in one left-padded KV-cache batch (llm-batch.ts);
 *   concurrent scoring calls (caption and image reranking) run as one forward pass.
 */
import { type Batchable, Coalescer } from './coalescer.js';
import type { DenoiseInput, RenderInput } from './diffusion.js';
import { type DecodeStream, LlmBatcher, padPrompts } from './llm-batch.js';
import type { ModelBackend } from './model-backend.js';

export interface BatchCounters {
  encodeCalls: number;
  denoiseCalls: number;
  denoiseRows: number;
  renderCalls: number;
  vaeDecodeCalls: number;
  llmCalls: number;
  llmRows: number;
  llmJoins: number; // streams' rows prefilled into a running LLM batch (continuous batching)
  llmScoreCalls: number; // forward passes that scored rows (caption and image reranking)
}

interface ScoreInput extends Batchable {
  ids: number[][];
  scored: number;
  allowedFrom: number;
  allowedTo: number;
  prefix?: number[];
}

export class BatchedModel {
  readonly counters: BatchCounters = {
    encodeCalls: 0,
    denoiseCalls: 0,
    denoiseRows: 0,
    renderCalls: 0,
    vaeDecodeCalls: 0,
    llmCalls: 0,
    llmRows: 0,
    llmJoins: 0,
    llmScoreCalls: 0,
  };
  private readonly encoder: Coalescer<{ rows: number; pixels: Float32Array }, number[]>;
  private readonly denoiser: Coalescer<DenoiseInput & { rows: number }, Float32Array>;
  private readonly renderer: Coalescer<RenderInput & { rows: number }, Float32Array>;
  private readonly vaeDecoder: Coalescer<{ rows: number; latent: Float32Array }, Float32Array>;
  private readonly llm: LlmBatcher;
  private readonly scorer: Coalescer<ScoreInput, number[]>;

  constructor(
    private readonly backend: ModelBackend,
    opts: { maxBatch: number; perImage: number; padId: number },
  ) {
    const K = opts.perImage;
    const slots = backend.parallelism;
    // a reranked caption decodes 16 rows (generation.caption_candidates 15): 8 at once ran 67 ms per
    // caption with LLM batches of at most 32 rows, 79 with 16 and 88 with 128 (one batch, one worker busy)
    const llmRows = opts.maxBatch * 4;
    const coalesce = <I extends Batchable, O>(
      run: (inputs: I[]) => Promise<O[]>,
      maxRows = opts.maxBatch * 2,
    ) => new Coalescer(run, maxRows, slots);
    this.encoder = coalesce(async (inputs) => {
      this.counters.encodeCalls++;
      const size = inputs[0]!.pixels.length;
      const pixels = new Float32Array(inputs.length * size); // [B, 3, H, W]
      inputs.forEach((inp, b) => {
        pixels.set(inp.pixels, b * size);
      });
      const codes = await backend.encode(pixels, inputs.length); // [B, K] int64
      return inputs.map((_, b) => Array.from(codes.subarray(b * K, (b + 1) * K), Number));
    }, opts.maxBatch);
    this.denoiser = coalesce(async (inputs) => {
      const merged = mergeDenoiseInputs(inputs);
      this.counters.denoiseCalls++;
      this.counters.denoiseRows += merged.batch;
      // With several workers, one batch runs as row chunks on all of them at once: on 2 cores, two
      // one-thread workers on half a batch each beat one two-thread run (BENCHMARKS.md, worker layout).
      const chunks = splitBatchInput(merged, slots);
      const outs = await Promise.all(chunks.map((c) => backend.denoise(c)));
      return splitByInput(concat(outs), inputs); // x0 [B, C, H, W]
    });
    this.renderer = coalesce(async (inputs) => {
      const render = requireGraph(backend.render?.bind(backend), 'renderer');
      this.counters.renderCalls++;
      const merged = {
        codes: concat(inputs.map((i) => i.codes)), // [B, K]
        mask: concat(inputs.map((i) => i.mask)), // [B, K]
        batch: totalRows(inputs),
      };
      // row chunks on every worker at once, as the denoiser's: an Edit's round trip renders all its
      // candidates (64 rows for 4 images) in one call, which one one-thread worker ran while the other idled
      const outs = await Promise.all(splitBatchInput(merged, slots).map((c) => render(c)));
      return splitByInput(concat(outs), inputs); // x0 [B, C, h, w]
    });
    this.vaeDecoder = coalesce(async (inputs) => {
      const vaeDecode = requireGraph(backend.vaeDecode?.bind(backend), 'vae_decoder');
      this.counters.vaeDecodeCalls++;
      const latent = concat(inputs.map((i) => i.latent));
      return splitByInput(await vaeDecode(latent, totalRows(inputs)), inputs); // pixels [B, 3, H, W]
    });
    this.scorer = coalesce(async (inputs) => {
      const score = requireGraph(this.backend.scoreLlm?.bind(this.backend), 'LLM scoring');
      this.counters.llmScoreCalls++;
      // per row: requests with different scored spans and softmax ranges share the pass; rows after a
      // shared prefix share theirs (one pass per prefix, the prefix run once per pass)
      const rows = inputs.flatMap((i) => i.ids.map((ids) => ({ ids, input: i })));
      const sums = new Float64Array(rows.length);
      const groups = new Map<string, number[]>(); // prefix -> indices into rows
      const keys = new Map(inputs.map((i) => [i, i.prefix?.join(',') ?? '']));
      rows.forEach((r, k) => {
        const key = keys.get(r.input)!;
        const group = groups.get(key);
        if (group) group.push(k);
        else groups.set(key, [k]);
      });
      // Like the denoiser, one batch runs as row chunks on every worker at once: a refined caption scores
      // ~60 rows a round, which one one-thread worker ran alone while the other core idled.
      const chunks = [...groups.values()].flatMap((group) => chunkEvenly(group, slots));
      await Promise.all(
        chunks.map(async (chunk) => {
          const prefix = rows[chunk[0]!]!.input.prefix;
          const padded = padPrompts(
            chunk.map((k) => rows[k]!.ids),
            opts.padId,
          );
          const per = (f: (i: ScoreInput) => number) => Int32Array.from(chunk.map((k) => f(rows[k]!.input)));
          const out = await score({
            inputIds: padded.ids,
            attentionMask: padded.mask,
            positionIds: padded.positions,
            batch: padded.batch,
            seqLen: padded.seqLen,
            scored: per((i) => i.scored),
            allowedFrom: per((i) => i.allowedFrom),
            allowedTo: per((i) => i.allowedTo),
            ...(prefix ? { prefix: BigInt64Array.from(prefix, BigInt) } : {}),
          });
          chunk.forEach((k, j) => {
            sums[k] = out[j]!;
          });
        }),
      );
      let at = 0;
      return inputs.map((i) => {
        const mine = Array.from(sums.subarray(at, at + i.rows));
        at += i.rows;
        return mine;
      });
    }, llmRows);
    this.llm = new LlmBatcher(
      () => backend.openLlm(),
      opts.padId,
      llmRows,
      slots,
      (rows, kind) => {
        this.counters.llmCalls++;
        this.counters.llmRows += rows;
        if (kind === 'join') this.counters.llmJoins++;
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

  /** One-step renderer -> x0 [B, C, h, w]. */
  render(input: RenderInput): Promise<Float32Array> {
    return this.renderer.call({ ...input, rows: input.batch });
  }

  /** Normalised latent [B, C, h, w] -> model pixels [B, 3, H, W]. */
  vaeDecode(latent: Float32Array, batch: number): Promise<Float32Array> {
    return this.vaeDecoder.call({ rows: batch, latent });
  }

  decode(stream: DecodeStream): Promise<void> {
    return this.llm.submit(stream);
  }

  /**
   * Summed log-probability of the last `scored` ids of each row given what precedes it (`after`, when given,
   * then the row), each under a softmax over the ids allowedFrom..allowedTo-1: one forward pass, batched with
   * other requests' rows (with the same `after`). A row that many rows follow is computed once per pass.
   */
  score(
    rows: number[][],
    scored: number,
    allowedFrom: number,
    allowedTo: number,
    after?: number[],
  ): Promise<number[]> {
    // `after` less its last id is the worker's shared prefix; each row carries that id, whose logits predict
    // the row's first id
    const last = after?.at(-1);
    const ids = last === undefined ? rows : rows.map((r) => [last, ...r]);
    const prefix = after && after.length > 1 ? after.slice(0, -1) : undefined;
    return this.scorer.call({ rows: ids.length, ids, scored, allowedFrom, allowedTo, prefix });
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}

/** Concatenates denoiser inputs along the batch dimension. */
export function mergeDenoiseInputs(inputs: DenoiseInput[]): DenoiseInput {
  if (inputs.length === 1) return inputs[0]!;
  return {
    xT: concat(inputs.map((i) => i.xT)), // [B, C, H, W]
    t: concat(inputs.map((i) => i.t)), // [B]
    codes: concat(inputs.map((i) => i.codes)), // [B, K]
    mask: concat(inputs.map((i) => i.mask)), // [B, K]
    batch: inputs.reduce((n, i) => n + i.batch, 0),
  };
}

type RowArray = Float32Array | BigInt64Array;

/**
 * Splits a batched graph input (denoiser or renderer: every array field [B, ...]) into at most `parts`
 * consecutive row chunks of near-equal size.
 */
export function splitBatchInput<T extends { batch: number }>(input: T, parts: number): T[] {
  const n = Math.min(Math.max(1, parts), input.batch);
  if (n === 1) return [input];
  const B = input.batch;
  const arrays = Object.entries(input as Record<string, unknown>).filter(
    (e): e is [string, RowArray] => e[1] instanceof Float32Array || e[1] instanceof BigInt64Array,
  );
  const out: T[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const rows = Math.floor(B / n) + (i < B % n ? 1 : 0);
    const chunk: Record<string, unknown> = { ...input, batch: rows };
    for (const [key, data] of arrays) {
      const per = data.length / B;
      chunk[key] = data.slice(at * per, (at + rows) * per);
    }
    out.push(chunk as T);
    at += rows;
  }
  return out;
}

/** Concatenates typed arrays of one kind (the first one itself when there is only one). */
function concat<T extends Float32Array | Float64Array | BigInt64Array>(parts: T[]): T {
  if (parts.length === 1) return parts[0]!;
  const Ctor = parts[0]!.constructor as new (n: number) => T;
  const out = new Ctor(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p as never, at);
    at += p.length;
  }
  return out;
}

/** An optional graph of the package, or an error naming it when the package has none. */
function requireGraph<F>(graph: F | undefined, name: string): F {
  if (!graph) throw new Error(`this package has no ${name}`);
  return graph;
}

/** Items split into at most `parts` contiguous chunks of near-equal size (none empty). */
export function chunkEvenly<T>(items: T[], parts: number): T[][] {
  const n = Math.min(Math.max(1, parts), items.length);
  return Array.from({ length: n }, (_, k) =>
    items.slice(Math.floor((k * items.length) / n), Math.floor(((k + 1) * items.length) / n)),
  );
}

function totalRows(inputs: Batchable[]): number {
  return inputs.reduce((n, i) => n + i.rows, 0);
}

/** Splits a batched [B, ...] output back into one part per coalesced input. */
function splitByInput(data: Float32Array, inputs: Batchable[]): Float32Array[] {
  return splitRows(
    data,
    inputs.map((i) => i.rows),
    totalRows(inputs),
  );
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
