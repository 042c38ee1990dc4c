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
import type { SessionTuning } from '../../inference/runtime/worker-protocol.js';
import { decodeInputImage } from '../../inference/server/image-input.js';
import { encodeImage } from '../../inference/server/image-output.js';
import { createLogger } from '../../inference/server/logger.js';
import { startServer } from '../../inference/server/server.js';
import { type BenchContext, type BenchLayout, defaultParams, jobContext } from '../lib/context.js';
import { testPicture } from '../lib/images.js';
import { EDIT_INSTRUCTION, PROMPTS, SEED } from '../lib/inputs.js';
import {
  type GraphProfile,
  matmulRate,
  openSession,
  profileGraph,
  type SessionOptions,
  timeRuns,
} from '../lib/ort-micro.js';
import {
  callKey,
  describeCall,
  type GraphCall,
  pickCalls,
  replayFeeds,
  resizeBatch,
  tightWorkerRoundTrips,
} from '../lib/replay.js';
import { median, now, round } from '../lib/stats.js';
import { compareTunings } from '../lib/tuning.js';
import { floor, type SuiteResult } from '../lib/types.js';
import {
  type CallRecord,
  recordWorkerCalls,
  stopRecording,
  type Timeline,
  timeline,
} from '../lib/worker-timing.js';

const MATMUL = fileURLToPath(new URL('../fixtures/matmul.onnx', import.meta.url));

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
  // batched denoiser, renderer and LLM step: per-row cost at maxBatch (what batching buys)
  const batchRows: Record<string, unknown>[] = [];
  const B = ctx.options.maxBatch;
  for (const [label, op, rows] of [
    ['denoise', 'denoise', [1, B]],
    ['render', 'render', [1, B]],
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
  // intraOpThreads 0 = ORT's choice (one per core); workers apply to whole requests (compareTunings) only
  const variants: [string, BenchLayout][] = [
    ['1 worker, ORT threads, spinning on (ORT default)', { workers: 1, intraOpThreads: 0, spinning: true }],
    [
      '1 worker, ORT threads, spinning off (first default)',
      { workers: 1, intraOpThreads: 0, spinning: false },
    ],
    ['1 worker, intraOpThreads=1', { workers: 1, intraOpThreads: 1, spinning: false }],
    [
      '2 workers x intraOpThreads=1, no wide denoiser (before)',
      { workers: 2, intraOpThreads: 1, spinning: false, wideDenoiserThreads: 0 },
    ],
    [
      '2 workers x intraOpThreads=1 + wide denoiser (runtime default now)',
      { workers: 2, intraOpThreads: 1, spinning: false, wideDenoiserThreads: 2 },
    ],
  ];
  const toOptions = (t: SessionTuning): SessionOptions => ({
    ...(t.intraOpThreads ? { intraOpNumThreads: t.intraOpThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: t.spinning === true ? '1' : '0' } } },
  });
  const optionRows: Record<string, unknown>[] = [];
  if (calls.llmStep && calls.denoise) {
    const step = replayFeeds(dir, manifest, calls.llmStep.request);
    const den = replayFeeds(dir, manifest, calls.denoise.request);
    for (const [name, tuning] of variants.filter(([, v]) => (v.workers ?? 1) === 1)) {
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
  // smoke: before/now only
  const tuningRows = await compareTunings(
    ctx,
    ctx.options.smoke ? [variants[1]!, variants[3]!] : variants,
    rgb,
    repeats,
  );
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
  const stepRow = graphRows.find((r) => r.call === 'llmStep');
  const denRow = graphRows.find((r) => r.call === 'denoise');
  const renderRow = graphRows.find((r) => r.call === 'render');
  const achieved = [stepRow, denRow, renderRow]
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
  const cell = (op: string) => {
    const o = opMs[op];
    return o ? `${o.ms} (${o.calls}x)` : '';
  };
  return {
    totalMs: round(totalMs),
    // worker round trips, ms (calls): image encode, text prefill, token steps, diffusion steps
    encodeMs: cell('encode'),
    prefillMs: cell('llmPrefill'),
    tokenStepsMs: cell('llmStep'),
    keepRowsMs: cell('llmKeepRows'),
    joinMs: cell('llmJoin'), // rows added to a running batch (their prefill)
    scoreMs: cell('llmScore'), // reranking: candidates' rows scored in one forward pass each
    diffusionStepsMs: cell('denoise'),
    renderMs: cell('render'), // the one-step renderer's decodes (a package with sampler.use_renderer)
    // main thread between calls: sampling before token steps, Euler update + coalescing before denoiser steps
    samplingMs: round(opMs.llmStep?.gapBeforeMs ?? 0),
    eulerAndBatchingMs: round(opMs.denoise?.gapBeforeMs ?? 0),
    otherGapsMs: round(gaps - (opMs.llmStep?.gapBeforeMs ?? 0) - (opMs.denoise?.gapBeforeMs ?? 0)),
    headMs: round(headMs), // validation, tokenizing, pixels in, admission
    tailMs: round(tailMs), // pixels out
    workerShare: round(worker / totalMs),
  };
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
