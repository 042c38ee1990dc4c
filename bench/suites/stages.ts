/**
 * 6. Where the time goes. (a) Timelines of real runtime requests: every model-worker call (round trip as the
 * main thread sees it) and the main-thread gaps between them (token sampling, Euler update, pixels).
 * (b) The same graph calls replayed on direct ORT sessions (no worker): pure run time, so round trip - run =
 * worker messaging. (c) ORT profiles: per-op time and FLOPs from the recorded shapes; achieved FLOP/s against
 * the machine's matmul peak measured in onnxruntime-node (bench/fixtures/matmul.onnx). (d) Session-option
 * variants (intra-op threads, spinning) on the hot graphs. (e) sharp and the gRPC transport per call.
 */
import { fileURLToPath } from 'node:url';
import { createInferenceClient } from '../../inference/client/client.js';
import { loadServerConfig } from '../../inference/config.js';
import type { ModelRuntime, RgbImage } from '../../inference/runtime/api.js';
import type { Manifest } from '../../inference/runtime/index.js';
import { WorkerClient } from '../../inference/runtime/worker-client.js';
import type { SessionTuning, WorkerRequest } from '../../inference/runtime/worker-protocol.js';
import { decodeInputImage } from '../../inference/server/image-input.js';
import { encodeImage } from '../../inference/server/image-output.js';
import { createLogger } from '../../inference/server/logger.js';
import { startServer } from '../../inference/server/server.js';
import { type BenchContext, defaultParams, jobContext } from '../lib/context.js';
import { testPicture } from '../lib/images.js';
import { EDIT_INSTRUCTION, PROMPTS, SEED } from '../lib/inputs.js';
import {
  type Feeds,
  f32,
  type GraphProfile,
  matmulRate,
  openSession,
  profileGraph,
  type SessionOptions,
  tensor,
  timeRuns,
} from '../lib/ort-micro.js';
import { median, now, round, sleep } from '../lib/stats.js';
import { floor, type SuiteResult } from '../lib/types.js';
import {
  type CallRecord,
  recordWorkerCalls,
  stopRecording,
  type Timeline,
  timeline,
} from '../lib/worker-timing.js';

const MATMUL = fileURLToPath(new URL('../fixtures/matmul.onnx', import.meta.url));

type GraphCall = 'encode' | 'denoise' | 'llmPrefill' | 'llmStep';

export async function stagesSuite(ctx: BenchContext): Promise<SuiteResult> {
  const t0 = now();
  const { runtime, manifest, dir } = await ctx.load();
  const { repeats, peakSide } = ctx.sizes.stages;
  const params = defaultParams(runtime, SEED);
  const { rgb, png } = await testPicture(manifest.image.size);
  const K = manifest.tokens.per_image;

  // (a) request timelines -------------------------------------------------------------------------
  const tasks = {
    generate: () => runtime.generate(PROMPTS[2]!, 1, params, jobContext()),
    edit: () => runtime.edit(rgb, EDIT_INSTRUCTION, 1, params, jobContext()),
    caption: () => runtime.caption(rgb, jobContext()),
  };
  const samples: Record<string, CallRecord[]> = {}; // one request's calls per op, for replay
  const requestRows: Record<string, unknown>[] = [];
  const roundTrips: Record<string, number[]> = {};
  for (const [name, run] of Object.entries(tasks)) {
    await run(); // warm
    const lines: Timeline[] = [];
    for (let i = 0; i < repeats; i++) {
      const records = recordWorkerCalls();
      const start = now();
      await run();
      const end = now();
      await new Promise((r) => setImmediate(r));
      stopRecording();
      lines.push(timeline(records, start, end));
      for (const r of records) {
        push(roundTrips, callKey(r.request), r.end - r.start);
        // representative calls: image-token steps and denoiser steps from generate, encode from edit
        const from = r.op === 'encode' ? 'edit' : 'generate';
        if (i === 0 && name === from) push(samples, r.op, r);
      }
    }
    requestRows.push({ task: name, ...summarizeTimelines(lines) });
    ctx.log(`stages: ${name} timeline done`);
  }

  // (b) + (c) direct ORT replays and profiles of the graph calls as the runtime made them ---------
  const calls = pickCalls(samples, K);
  const profDir = ctx.tempDir('prof');
  const graphRows: Record<string, unknown>[] = [];
  const profiles: Record<string, GraphProfile> = {};
  for (const [label, call] of Object.entries(calls)) {
    if (!call) continue;
    const { file, feeds } = replayFeeds(dir, manifest, call.request);
    const session = await openSession(file);
    const pureMs = await timeRuns(session, feeds, repeats * 2);
    await session.release();
    const profile = await profileGraph(file, feeds, Math.max(2, repeats), profDir);
    profiles[label] = profile;
    const rt = median(roundTrips[callKey(call.request)] ?? [call.end - call.start]);
    graphRows.push({
      call: label,
      shape: describeCall(call.request),
      roundTripMs: round(rt),
      pureRunMs: round(pureMs),
      messagingMs: round(rt - pureMs),
      mflops: round(profile.flops / 1e6),
      achievedGflops: round(profile.flops / (pureMs / 1000) / 1e9),
      matmulShareOfKernels: round(
        profile.byOp.filter((o) => o.flops > 0).reduce((a, o) => a + o.ms, 0) /
          Math.max(1e-9, profile.kernelMs),
      ),
      topOps: profile.byOp.slice(0, 5).map((o) => `${o.op} ${round(o.ms, 2)}ms x${round(o.calls, 2)}`),
    });
  }
  // the same calls in a tight loop through a model worker of our own: worker messaging without the
  // pipeline's gaps (graph-thread wake-ups, event-loop turns) that the request timelines include
  const tight = await tightWorkerRoundTrips(dir, manifest, calls, repeats * 2);
  for (const row of graphRows) {
    const t = tight[row.call as GraphCall];
    if (t !== undefined) {
      row.tightRoundTripMs = round(t);
      row.tightMessagingMs = round(t - Number(row.pureRunMs));
    }
  }
  // batched denoiser and LLM step: per-row cost at maxBatch (what batching buys)
  const batchRows: Record<string, unknown>[] = [];
  const B = ctx.options.maxBatch;
  for (const [label, op, rows] of [
    ['denoise', 'denoise', [1, B]],
    ['llmStep', 'llmStep', [2, 2 * B]],
  ] as const) {
    const call = calls[label];
    if (!call) continue;
    for (const b of rows) {
      const { file, feeds } = replayFeeds(dir, manifest, resizeBatch(call.request, b));
      const session = await openSession(file);
      const ms = await timeRuns(session, feeds, repeats * 2);
      await session.release();
      batchRows.push({ graph: op, batch: b, ms: round(ms), msPerRow: round(ms / b) });
    }
  }
  ctx.log('stages: graph replays and profiles done');

  // (c) machine peak --------------------------------------------------------------------------------
  const peak = await matmulRate(MATMUL, peakSide, peakSide, peakSide, Math.max(3, repeats));
  const peak1 = await matmulRate(MATMUL, peakSide, peakSide, peakSide, Math.max(3, repeats), {
    intraOpNumThreads: 1,
  });
  const hidden = manifest.graphs.llm.num_kv_heads * manifest.graphs.llm.head_dim;
  const small = await matmulRate(MATMUL, 2, hidden, hidden, repeats * 4);
  const mid = await matmulRate(MATMUL, 80, hidden, hidden, repeats * 4);

  // (d) ORT session settings: the hot graphs alone and alternating (LLM step <-> denoiser, as batched serving
  // interleaves them), then whole requests through runtimes loaded with each setting, alternating ------------
  const variants: [string, SessionTuning][] = [
    ['spinning on (ORT default; before)', { spinning: true }],
    ['spinning off (runtime default; after)', { spinning: false }],
    ['intraOpThreads=1', { intraOpThreads: 1, spinning: false }],
  ];
  const toOptions = (t: SessionTuning): SessionOptions => ({
    ...(t.intraOpThreads ? { intraOpNumThreads: t.intraOpThreads } : {}),
    ...(t.spinning === true ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  });
  const optionRows: Record<string, unknown>[] = [];
  if (calls.llmStep && calls.denoise) {
    const step = replayFeeds(dir, manifest, calls.llmStep.request);
    const den = replayFeeds(dir, manifest, calls.denoise.request);
    for (const [name, tuning] of variants) {
      const s1 = await openSession(step.file, toOptions(tuning));
      const s2 = await openSession(den.file, toOptions(tuning));
      const alone1 = await timeRuns(s1, step.feeds, repeats * 2);
      const alone2 = await timeRuns(s2, den.feeds, repeats * 2);
      const alt1: number[] = [];
      const alt2: number[] = [];
      for (let i = 0; i < repeats * 2 + 2; i++) {
        let t = now();
        await s1.run(step.feeds());
        if (i >= 2) alt1.push(now() - t);
        t = now();
        await s2.run(den.feeds());
        if (i >= 2) alt2.push(now() - t);
      }
      await s1.release();
      await s2.release();
      optionRows.push({
        options: name,
        llmStepAloneMs: round(alone1),
        denoiseAloneMs: round(alone2),
        llmStepAlternatingMs: round(median(alt1)),
        denoiseAlternatingMs: round(median(alt2)),
      });
    }
  }
  const tuningRows = await compareTunings(ctx, variants, rgb, repeats);
  ctx.log('stages: session setting variants done');

  // (e) sharp and the gRPC transport ----------------------------------------------------------------------
  const limits = { maxImageBytes: 20 * 2 ** 20, maxImagePixels: 40_000_000 };
  const sharpEncode = await timeAsync(() => encodeImage(rgb, 'OUTPUT_FORMAT_PNG'), repeats * 4);
  const sharpDecode = await timeAsync(
    () => decodeInputImage({ data: png, mime_type: 'image/png' }, 'image', manifest.image.size, limits),
    repeats * 4,
  );
  const config = loadServerConfig({
    INFERENCE_LISTEN: '127.0.0.1:0',
    LOG_LEVEL: 'info',
    INFERENCE_TOKEN: '',
  });
  const server = await startServer({
    config,
    models: new Map([[manifest.name, runtime]]),
    log: createLogger({ level: 'info', write: () => {} }),
  });
  await server.ready;
  const client = createInferenceClient({ address: `127.0.0.1:${server.port}` });
  let grpcHealth: number;
  let grpcInfo: number;
  try {
    await client.checkHealth();
    grpcHealth = await timeAsync(() => client.checkHealth(), repeats * 4);
    grpcInfo = await timeAsync(() => client.getModelInfo(), repeats * 4);
  } finally {
    client.close();
    await server.shutdown();
  }

  // the largest gap ------------------------------------------------------------------------------------------
  const gen = requestRows.find((r) => r.task === 'generate') as ReturnType<typeof summarizeTimelines>;
  const stepRow = graphRows.find((r) => r.call === 'llmStep');
  const denRow = graphRows.find((r) => r.call === 'denoise');
  const achieved = [stepRow, denRow]
    .filter((r): r is Record<string, unknown> => Boolean(r))
    .map((r) => ({
      call: r.call,
      achievedGflops: r.achievedGflops,
      ofPeak: round(Number(r.achievedGflops) / peak.gflops),
    }));
  const notes = [
    `machine matmul peak in onnxruntime-node: ${round(peak.gflops)} GFLOP/s (${peakSide}^3 float32, default threads;` +
      ` ${round(peak1.gflops)} with 1 thread);` +
      ` ${round(small.gflops)} GFLOP/s at 2x${hidden}x${hidden} (a decode step's matmul), ${round(mid.gflops)} at 80x${hidden}x${hidden}`,
    'FLOPs count MatMul/Gemm/Conv nodes from the shapes in the ORT profile (2 per multiply-add); other ops are 0',
    'roundTripMs = post to reply on the main thread (median over the requests); pureRunMs = session.run on the bench thread',
  ];
  return {
    suite: 'stages',
    seconds: (now() - t0) / 1000,
    data: {
      requests: requestRows,
      graphs: graphRows,
      batching: batchRows,
      peak: { large: peak, largeOneThread: peak1, decodeStepShape: small, denoiserShape: mid },
      achieved,
      sessionOptions: optionRows,
      sessionTuningRequests: tuningRows,
      server: {
        sharpPngEncodeMs: round(sharpEncode),
        sharpInputDecodeMs: round(sharpDecode),
        grpcHealthRoundTripMs: round(grpcHealth),
        grpcGetModelInfoMs: round(grpcInfo),
      },
      generateShares: gen?.shares,
    },
    floors: [
      floor(
        'stages.peak.measured',
        'matmul peak measured in onnxruntime-node (reference for achieved FLOP/s)',
        '> 0',
        round(peak.gflops),
        'GFLOP/s',
        peak.gflops > 0,
      ),
    ],
    notes,
  };
}

/**
 * Whole requests through runtimes loaded with each session setting, alternating variant by variant:
 * Generate (1 image), 8 concurrent Generates (batched), Caption. Ratios are against the first variant.
 */
async function compareTunings(
  ctx: BenchContext,
  variants: [string, SessionTuning][],
  image: RgbImage,
  repeats: number,
): Promise<Record<string, unknown>[]> {
  const runtimes = [];
  try {
    for (const [, tuning] of variants) runtimes.push(await ctx.loadTuned(tuning));
    const params = defaultParams(runtimes[0]!, SEED);
    const work = {
      generate1: (r: ModelRuntime) => r.generate(PROMPTS[0]!, 1, params, jobContext()),
      generate8x: (r: ModelRuntime) =>
        Promise.all(
          PROMPTS.concat(PROMPTS).map((p, i) =>
            r.generate(p, 1, { ...params, seed: BigInt(i) }, jobContext()),
          ),
        ),
      caption: (r: ModelRuntime) => r.caption(image, jobContext()),
    };
    const times = variants.map(() => ({
      generate1: [] as number[],
      generate8x: [] as number[],
      caption: [] as number[],
    }));
    for (let rep = 0; rep < repeats + 1; rep++) {
      for (const [name, fn] of Object.entries(work) as [
        keyof typeof work,
        (r: ModelRuntime) => Promise<unknown>,
      ][]) {
        for (let v = 0; v < runtimes.length; v++) {
          const idx = rep % 2 === 0 ? v : runtimes.length - 1 - v; // alternate the order
          await sleep(30); // let the previous variant's spinning threads go idle
          const start = now();
          await fn(runtimes[idx]!);
          if (rep > 0) times[idx]![name].push(now() - start);
        }
      }
    }
    const base = times[0]!;
    return variants.map(([name], v) => {
      const t = times[v]!;
      return {
        options: name,
        generateMs: round(median(t.generate1)),
        generate8ConcurrentMs: round(median(t.generate8x)),
        captionMs: round(median(t.caption)),
        generateVsFirst: round(median(t.generate1) / median(base.generate1)),
        generate8VsFirst: round(median(t.generate8x) / median(base.generate8x)),
        captionVsFirst: round(median(t.caption) / median(base.caption)),
      };
    });
  } finally {
    for (const r of runtimes) await r.close();
  }
}

/** Median round trip of each call repeated back to back on a fresh model worker (LLM step: after a prefill). */
async function tightWorkerRoundTrips(
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

function summarizeTimelines(lines: Timeline[]) {
  const ops = new Set(lines.flatMap((l) => Object.keys(l.ops)));
  const opMs = Object.fromEntries(
    [...ops].map((op) => [
      op,
      {
        calls: median(lines.map((l) => l.ops[op]?.calls ?? 0)),
        ms: round(median(lines.map((l) => l.ops[op]?.ms ?? 0))),
        gapBeforeMs: round(median(lines.map((l) => l.gapsBefore[op] ?? 0))),
      },
    ]),
  );
  const totalMs = median(lines.map((l) => l.totalMs));
  const headMs = median(lines.map((l) => l.headMs));
  const tailMs = median(lines.map((l) => l.tailMs));
  const worker = Object.values(opMs).reduce((a, o) => a + o.ms, 0);
  const gaps = Object.values(opMs).reduce((a, o) => a + o.gapBeforeMs, 0);
  return {
    totalMs: round(totalMs),
    ops: opMs,
    headMs: round(headMs),
    tailMs: round(tailMs),
    shares: {
      workerCalls: round(worker / totalMs),
      mainThreadBetweenCalls: round(gaps / totalMs),
      headAndTail: round((headMs + tailMs) / totalMs),
    },
  };
}

/** One representative call per graph: the first encode/prefill/denoise, and the middle image-token step. */
function pickCalls(samples: Record<string, CallRecord[]>, K: number): Partial<Record<GraphCall, CallRecord>> {
  const steps = samples.llmStep ?? [];
  return {
    encode: samples.encode?.[0],
    llmPrefill: samples.llmPrefill?.[0],
    llmStep: steps[Math.min(steps.length - 1, Math.floor(K / 2))],
    denoise: samples.denoise?.[0],
  };
}

function describeCall(r: WorkerRequest): string {
  switch (r.op) {
    case 'encode':
      return `pixels [${r.batch}, 3, H, W]`;
    case 'denoise':
      return `x_t [${r.batch}, C, H, W], codes [${r.batch}, ${r.codes.length / r.batch}]`;
    case 'llmPrefill':
      return `input_ids [${r.batch}, ${r.seqLen}]`;
    case 'llmStep':
      return `input_ids [${r.batch}, 1], past ${r.attentionMask.length / r.batch - 1}`;
    default:
      return r.op;
  }
}

/** The same call with `b` rows (rows repeated), for batch-size sweeps. */
function resizeBatch(r: WorkerRequest, b: number): WorkerRequest {
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
function replayFeeds(dir: string, m: Manifest, r: WorkerRequest): { file: string; feeds: () => Feeds } {
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

async function timeAsync(fn: () => Promise<unknown>, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = now();
    await fn();
    times.push(now() - start);
  }
  return median(times);
}

function push<T>(map: Record<string, T[]>, key: string, value: T): void {
  const list = map[key] ?? [];
  list.push(value);
  map[key] = list;
}

const callKey = (r: WorkerRequest) => `${r.op}|${describeCall(r)}`;
