/**
 * The ONLY module that imports onnxruntime-node. Loaded inside worker threads (worker.ts) only:
 * session.run blocks its thread for the whole run.
 */
import * as ort from 'onnxruntime-node';
import { fromHalfArray, toHalfArray } from './half-float.js';
import { takeRows } from './row-dedup.js';
import type { SessionTuning } from './worker-protocol.js';

/** The requested execution provider cannot be used (its message starts with "execution provider"). */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';
export type OrtTensor = ort.Tensor;
export type Feeds = Record<string, ort.Tensor>;

export interface GraphSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Static dims per value name (strings/-1 for dynamic ones). */
  readonly shapes: Record<string, readonly (number | string)[]>;
  /** Element type per value name ('float16', 'int64', ...). */
  readonly types: Record<string, string>;
  run(feeds: Feeds): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

/**
 * Opens one graph on exactly the requested provider (no fallback to CPU). When a non-CPU provider
 * fails, the graph is tried on CPU once to tell a missing provider from a broken file.
 */
export async function openGraph(
  file: string,
  provider: ExecutionProvider,
  tuning: SessionTuning = {},
): Promise<GraphSession> {
  if (!ort.listSupportedBackends().some((b) => b.name === provider)) {
    throw new ProviderUnavailableError(
      `execution provider "${provider}" is not available in onnxruntime-node here`,
    );
  }
  const create = (ep: ExecutionProvider) =>
    ort.InferenceSession.create(file, {
      executionProviders: [ep],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...(tuning.intraOpThreads ? { intraOpNumThreads: tuning.intraOpThreads } : {}),
      ...(tuning.spinning !== true
        ? { extra: { session: { intra_op: { allow_spinning: '0' } } } }
        : tuning.stopSpinningAfterRun
          ? { extra: { session: { force_spinning_stop: '1' } } }
          : {}),
    });
  let session: ort.InferenceSession;
  try {
    session = await create(provider);
  } catch (err) {
    if (provider === 'cpu') throw err;
    const onCpu = await create('cpu').catch(() => undefined);
    if (!onCpu) throw err;
    await onCpu.release();
    throw new ProviderUnavailableError(
      `execution provider "${provider}" is unavailable (the graph loads on CPU): ${(err as Error).message}`,
    );
  }
  const shapes: Record<string, readonly (number | string)[]> = {};
  const types: Record<string, string> = {};
  for (const meta of [...session.inputMetadata, ...session.outputMetadata]) {
    if (!meta.isTensor) continue;
    shapes[meta.name] = meta.shape;
    types[meta.name] = meta.type;
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    shapes,
    types,
    run: (feeds) => session.run(feeds),
    release: () => session.release(),
  };
}

export function floatTensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function int64Tensor(data: BigInt64Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', data, dims);
}

/** Reads a float32 or float16 tensor as float32 values; [start, end) limits the conversion to a slice. */
export function readFloat(t: ort.Tensor, start = 0, end = t.size): Float32Array {
  if (t.type === 'float32') return (t.data as Float32Array).subarray(start, end);
  if (t.type !== 'float16') throw new Error(`expected a float tensor, got ${t.type}`);
  // Node 20: Uint16Array of half bits; a runtime with Float16Array hands out real values instead.
  if (t.data instanceof Uint16Array) return fromHalfArray(t.data, start, end);
  return Float32Array.from(t.data as unknown as Iterable<number>).subarray(start, end);
}

export function readInt64(t: ort.Tensor): BigInt64Array {
  if (t.type !== 'int64') throw new Error(`expected an int64 tensor, got ${t.type}`);
  return t.data as BigInt64Array;
}

/** A float input in the graph's dtype (float16 graphs get values rounded to half, ties to even). */
export function floatInput(data: Float32Array, dims: number[], dtype: 'float32' | 'float16'): ort.Tensor {
  if (dtype === 'float32') return floatTensor(data, dims);
  return new ort.Tensor('float16', toHalfArray(data), dims);
}

/** Zero-length float tensor (an empty KV cache, P = 0). */
export function emptyFloat(dims: number[], dtype: 'float32' | 'float16'): ort.Tensor {
  return dtype === 'float32'
    ? new ort.Tensor('float32', new Float32Array(0), dims)
    : new ort.Tensor('float16', new Uint16Array(0), dims);
}

/**
 * [B1, H, P1, D] and [B2, H, P2, D] -> [B1 + B2, H, max(P1, P2), D]: both left-padded with zeros along the
 * sequence axis (the attention mask hides padding), then stacked (any float dtype, bits unchanged).
 */
export function appendRows(a: ort.Tensor, b: ort.Tensor): ort.Tensor {
  const [B1, H, P1, D] = a.dims as [number, number, number, number];
  const [B2, , P2] = b.dims as [number, number, number, number];
  const P = Math.max(P1, P2);
  const first = a.data as Float32Array | Uint16Array;
  const out = new (first.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(
    (B1 + B2) * H * P * D,
  );
  const parts: [Float32Array | Uint16Array, number, number, number][] = [
    [first, B1, P1, 0],
    [b.data as Float32Array | Uint16Array, B2, P2, B1],
  ];
  for (const [data, rows, len, firstRow] of parts) {
    for (let r = 0; r < rows; r++) {
      for (let h = 0; h < H; h++) {
        const from = (r * H + h) * len * D;
        const to = (((firstRow + r) * H + h) * P + (P - len)) * D; // its positions end where P ends
        out.set(data.subarray(from, from + len * D), to);
      }
    }
  }
  return new ort.Tensor(a.type as 'float32', out as Float32Array, [B1 + B2, H, P, D]);
}

/** [B, H, P, D] -> [B, H, P - n, D] without the first n positions of every (row, head). */
export function dropColumns(t: ort.Tensor, n: number): ort.Tensor {
  if (n <= 0) return t;
  const [B, H, P, D] = t.dims as [number, number, number, number];
  const src = t.data as Float32Array | Uint16Array;
  const out = new (src.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(B * H * (P - n) * D);
  for (let bh = 0; bh < B * H; bh++) {
    out.set(src.subarray((bh * P + n) * D, (bh + 1) * P * D), bh * (P - n) * D);
  }
  return new ort.Tensor(t.type as 'float32', out as Float32Array, [B, H, P - n, D]);
}

/** Copies rows `rows` of a [B, ...] tensor into a new [rows.length, ...] tensor (any dtype, bits unchanged). */
export function selectRows(t: ort.Tensor, rows: number[]): ort.Tensor {
  const out = takeRows(t.data as Float32Array | Uint16Array, rows, t.dims[0]!);
  return new ort.Tensor(t.type as 'float32', out as Float32Array, [rows.length, ...t.dims.slice(1)]);
}
