/**
 * Direct onnxruntime-node sessions for micro-measurements (on the bench's own thread, no worker): graph
 * run times with given session options, ORT profiles (per-node time and shapes -> FLOPs), and the
 * machine's matmul peak from bench/fixtures/matmul.onnx.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { median, now } from './stats.js';

export type Feeds = Record<string, ort.Tensor>;
export type SessionOptions = ort.InferenceSession.SessionOptions;

/** As the runtime opens its sessions (inference/runtime/ort-backend.ts): all optimisations, no spinning. */
export const BASE_OPTIONS: SessionOptions = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

export function openSession(file: string, extra: SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, { ...BASE_OPTIONS, ...extra });
}

/** Median wall ms of session.run over `repeats` runs after `warmup` runs. */
export async function timeRuns(
  session: ort.InferenceSession,
  feeds: () => Feeds,
  repeats: number,
  warmup = 2,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < warmup + repeats; i++) {
    const f = feeds();
    const start = now();
    await session.run(f);
    if (i >= warmup) times.push(now() - start);
  }
  return median(times);
}

export const f32 = (dims: number[], fill = 0): ort.Tensor =>
  new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(fill), dims);
export const i64 = (dims: number[], fill = 0n): ort.Tensor =>
  new ort.Tensor('int64', new BigInt64Array(dims.reduce((a, b) => a * b, 1)).fill(fill), dims);
export const tensor = (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: number[]) =>
  new ort.Tensor(type, data as Float32Array, dims);

export interface OpProfile {
  op: string;
  calls: number;
  ms: number; // kernel time per graph run
  flops: number; // per graph run (matmul-like ops only)
}

export interface GraphProfile {
  runMs: number; // profiled model_run time per run (profiling adds overhead)
  kernelMs: number; // sum of node kernel times per run
  flops: number; // matmul/gemm/conv FLOPs per run
  byOp: OpProfile[];
}

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number; // microseconds
  args?: {
    op_name?: string;
    input_type_shape?: Record<string, number[]>[];
    output_type_shape?: Record<string, number[]>[];
  };
}

const shapeOf = (s: Record<string, number[]> | undefined): number[] => (s ? (Object.values(s)[0] ?? []) : []);
const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);

/** FLOPs of one node from the shapes ORT recorded (multiply-add = 2 FLOPs); 0 for non-matmul ops. */
export function nodeFlops(op: string, inputs: number[][], outputs: number[][]): number {
  const out = outputs[0] ?? [];
  if (op === 'MatMul' || op === 'FusedMatMul' || op === 'MatMulInteger') {
    const a = inputs[0] ?? [];
    return 2 * prod(out) * (a[a.length - 1] ?? 0);
  }
  if (op === 'Gemm') {
    const m = out[0] ?? 0;
    return m === 0 ? 0 : 2 * prod(out) * (prod(inputs[0] ?? []) / m);
  }
  if (op === 'Conv' || op === 'FusedConv') {
    const w = inputs[1] ?? [];
    return 2 * prod(out) * prod(w.slice(1));
  }
  return 0;
}

/** Runs `runs` profiled runs and aggregates the ORT profile per op type. */
export async function profileGraph(
  file: string,
  feeds: () => Feeds,
  runs: number,
  dir: string,
  extra: SessionOptions = {},
): Promise<GraphProfile> {
  const prefix = join(dir, `prof-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  const session = await openSession(file, { ...extra, enableProfiling: true, profileFilePrefix: prefix });
  for (let i = 0; i < runs + 1; i++) await session.run(feeds());
  session.endProfiling();
  await session.release();
  const name = readdirSync(dir).find((f) => join(dir, f).startsWith(prefix) && f.endsWith('.json'));
  if (!name) throw new Error(`no ORT profile written for ${prefix}`);
  const events = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProfileEvent[];
  const runsSeen = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const counted = runsSeen.slice(1); // the first run warms up
  // Node events are written before their model_run event: skip the warm-up run's nodes.
  const warmupEnd = runsSeen.length > 0 ? events.indexOf(runsSeen[0]!) : -1;
  const byOp = new Map<string, OpProfile>();
  let kernelUs = 0;
  let flops = 0;
  events.forEach((e, i) => {
    if (i <= warmupEnd || e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) return;
    const op = e.args?.op_name ?? '?';
    const f = nodeFlops(
      op,
      (e.args?.input_type_shape ?? []).map(shapeOf),
      (e.args?.output_type_shape ?? []).map(shapeOf),
    );
    const entry = byOp.get(op) ?? { op, calls: 0, ms: 0, flops: 0 };
    entry.calls++;
    entry.ms += e.dur / 1000;
    entry.flops += f;
    byOp.set(op, entry);
    kernelUs += e.dur;
    flops += f;
  });
  const n = Math.max(1, counted.length);
  return {
    runMs: median(counted.map((e) => e.dur / 1000)),
    kernelMs: kernelUs / 1000 / n,
    flops: flops / n,
    byOp: [...byOp.values()]
      .map((o) => ({ op: o.op, calls: o.calls / n, ms: o.ms / n, flops: o.flops / n }))
      .sort((a, b) => b.ms - a.ms),
  };
}

/** GFLOP/s of an MxK @ KxN matmul in ORT (median of repeats). */
export async function matmulRate(
  file: string,
  m: number,
  k: number,
  n: number,
  repeats: number,
  extra: SessionOptions = {},
): Promise<{ m: number; k: number; n: number; ms: number; gflops: number }> {
  const session = await openSession(file, extra);
  const a = f32([m, k], 0.5);
  const b = f32([k, n], 0.25);
  const t = await timeRuns(session, () => ({ A: a, B: b }), repeats, 2);
  await session.release();
  return { m, k, n, ms: t, gflops: (2 * m * k * n) / (t / 1000) / 1e9 };
}
