/**
 * Replaying the graph calls a runtime request made (recorded by worker-timing.ts): on direct ORT sessions
 * (ort-micro.ts), with other batch sizes, and back to back through a model worker of our own.
 */
import type { Manifest } from '../../inference/runtime/index.js';
import { WorkerClient } from '../../inference/runtime/worker-client.js';
import type { WorkerRequest } from '../../inference/runtime/worker-protocol.js';
import { type Feeds, f32, tensor } from './ort-micro.js';
import { median, now } from './stats.js';
import type { CallRecord } from './worker-timing.js';

export type GraphCall = 'encode' | 'denoise' | 'render' | 'llmPrefill' | 'llmStep';

/** Groups calls of the same op and shape (e.g. the same token step across repeats). */
export const callKey = (r: WorkerRequest) => `${r.op}|${describeCall(r)}`;

/** One representative call per graph: the first encode/prefill/denoise/render, and the middle image-token step. */
export function pickCalls(
  samples: Record<string, CallRecord[]>,
  K: number,
): Partial<Record<GraphCall, CallRecord>> {
  const steps = samples.llmStep ?? [];
  return {
    encode: samples.encode?.[0],
    llmPrefill: samples.llmPrefill?.[0],
    llmStep: steps[Math.min(steps.length - 1, Math.floor(K / 2))],
    denoise: samples.denoise?.[0],
    render: samples.render?.[0], // the one-step renderer: a package's default decode with sampler.use_renderer
  };
}

export function describeCall(r: WorkerRequest): string {
  switch (r.op) {
    case 'encode':
      return `pixels [${r.batch}, 3, H, W]`;
    case 'denoise':
      return `x_t [${r.batch}, C, H, W], codes [${r.batch}, ${r.codes.length / r.batch}]`;
    case 'render':
      return `codes [${r.batch}, ${r.codes.length / r.batch}]`;
    case 'llmPrefill':
      return `input_ids [${r.batch}, ${r.seqLen}]`;
    case 'llmStep':
      return `input_ids [${r.batch}, 1], past ${r.attentionMask.length / r.batch - 1}`;
    default:
      return r.op;
  }
}

/** The same call with `b` rows (rows repeated), for batch-size sweeps. */
export function resizeBatch(r: WorkerRequest, b: number): WorkerRequest {
  const rep = <T extends Float32Array | BigInt64Array>(a: T, rows: number): T => {
    const row = a.length / rows;
    const out = new (a.constructor as new (n: number) => T)(row * b);
    for (let i = 0; i < b; i++)
      out.set(a.subarray((i % rows) * row, ((i % rows) + 1) * row) as never, i * row);
    return out;
  };
  if (r.op === 'denoise') {
    return {
      ...r,
      xT: rep(r.xT, r.batch),
      t: rep(r.t, r.batch),
      codes: rep(r.codes, r.batch),
      mask: rep(r.mask, r.batch),
      batch: b,
    };
  }
  if (r.op === 'render') {
    return { ...r, codes: rep(r.codes, r.batch), mask: rep(r.mask, r.batch), batch: b };
  }
  if (r.op === 'llmStep') {
    return {
      ...r,
      inputIds: rep(r.inputIds, r.batch),
      attentionMask: rep(r.attentionMask, r.batch),
      positionIds: rep(r.positionIds, r.batch),
      batch: b,
    };
  }
  return r;
}

/** Feeds that reproduce a worker call on a direct session (an LLM step gets a zero KV cache of the right size). */
export function replayFeeds(
  dir: string,
  m: Manifest,
  r: WorkerRequest,
): { file: string; feeds: () => Feeds } {
  const g = m.graphs;
  const side = m.image.size;
  if (r.op === 'encode') {
    return {
      file: `${dir}/${g.encoder.file}`,
      feeds: () => ({ [g.encoder.inputs.pixels]: tensor('float32', r.pixels, [r.batch, 3, side, side]) }),
    };
  }
  if (r.op === 'denoise') {
    const K = r.codes.length / r.batch;
    return {
      file: `${dir}/${g.denoiser.file}`,
      feeds: () => ({
        [g.denoiser.inputs.x_t]: tensor('float32', r.xT, [r.batch, 3, side, side]),
        [g.denoiser.inputs.t]: tensor('float32', r.t, [r.batch]),
        [g.denoiser.inputs.codes]: tensor('int64', r.codes, [r.batch, K]),
        [g.denoiser.inputs.mask]: tensor('float32', r.mask, [r.batch, K]),
      }),
    };
  }
  if (r.op === 'render' && g.renderer) {
    const spec = g.renderer;
    const K = r.codes.length / r.batch;
    return {
      file: `${dir}/${spec.file}`,
      feeds: () => ({
        [spec.inputs.codes]: tensor('int64', r.codes, [r.batch, K]),
        [spec.inputs.mask]: tensor('float32', r.mask, [r.batch, K]),
      }),
    };
  }
  if (r.op === 'llmPrefill' || r.op === 'llmStep') {
    const spec = g.llm;
    const seq = r.op === 'llmPrefill' ? r.seqLen : 1;
    const total = r.attentionMask.length / r.batch;
    const past = total - seq;
    return {
      file: `${dir}/${spec.file}`,
      feeds: () => {
        const f: Feeds = {
          [spec.inputs.input_ids]: tensor('int64', r.inputIds, [r.batch, seq]),
          [spec.inputs.attention_mask]: tensor('int64', r.attentionMask, [r.batch, total]),
          [spec.inputs.position_ids]: tensor('int64', r.positionIds, [r.batch, seq]),
        };
        const dims = [r.batch, spec.num_kv_heads, past, spec.head_dim];
        for (let i = 0; i < spec.num_layers; i++) {
          f[spec.inputs.past_key.replace('{i}', String(i))] = f32(dims);
          f[spec.inputs.past_value.replace('{i}', String(i))] = f32(dims);
        }
        return f;
      },
    };
  }
  throw new Error(`cannot replay ${r.op}`);
}

/** Median round trip of each call repeated back to back on a fresh model worker (LLM step: after a prefill). */
export async function tightWorkerRoundTrips(
  dir: string,
  m: Manifest,
  calls: Partial<Record<GraphCall, CallRecord>>,
  n: number,
): Promise<Partial<Record<GraphCall, number>>> {
  const worker = new WorkerClient(99);
  const out: Partial<Record<GraphCall, number>> = {};
  try {
    await worker.call({ op: 'load', dir, provider: 'cpu', dtype: m.dtype, graphs: m.graphs });
    for (const [label, call] of Object.entries(calls) as [GraphCall, CallRecord | undefined][]) {
      if (!call) continue;
      const r = call.request;
      const times: number[] = [];
      for (let i = 0; i < n + 2; i++) {
        let start = now();
        if (r.op === 'llmStep') {
          // rebuild a KV cache of the same length, then time the step alone
          const past = r.attentionMask.length / r.batch - 1;
          const ids = new BigInt64Array(r.batch * past).fill(8n);
          const mask = new BigInt64Array(r.batch * past).fill(1n);
          const pos = new BigInt64Array(r.batch * past).map((_, j) => BigInt(j % past));
          await worker.call({
            op: 'llmPrefill',
            sessionId: 1e9,
            inputIds: ids,
            attentionMask: mask,
            positionIds: pos,
            batch: r.batch,
            seqLen: past,
          });
          start = now();
          await worker.call({ ...r, sessionId: 1e9 });
        } else {
          await worker.call(structuredClone(r) as never);
        }
        if (i >= 2) times.push(now() - start);
      }
      out[label] = median(times);
    }
  } finally {
    await worker.terminate();
  }
  return out;
}
