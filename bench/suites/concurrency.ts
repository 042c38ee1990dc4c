/**
 * 3. Concurrency: throughput and latency with 1, 2, 4, 8, 16 concurrent gRPC clients (closed loop, each
 * client sends its next request when the previous one returned) against the server process.
 *
 * The x8 floor is judged on separate windows of 1 and 8 clients taken in alternation (1, 8, 8, 1, ...):
 * the sweep measures each level once, ~20 s apart, and this machine drifts 10-25 % over such spans (the
 * one-client Generate moved between 27 and 47 ms per image from run to run), which moved the ratio by as
 * much.
 *
 * Each alternating window also reads the server's CPU time, which splits the ratio into its two causes:
 * throughput = cores busy / core-ms per request, so x8 / x1 = (cores busy at 8 / at 1) x (core-ms per request
 * at 1 / at 8). The first factor cannot pass (cores / cores busy at 1 client); the second is what batching
 * saves. The same windows are then run against the package without its best-of-N work (plain-package.ts), in
 * a second server, so what reranking costs this ratio is measured in the run, not quoted.
 */
import { cpus } from 'node:os';
import type { InferenceClient } from '../../inference/client/client.js';
import { readManifest } from '../../inference/runtime/index.js';
import type { BenchContext } from '../lib/context.js';
import { testPicture } from '../lib/images.js';
import { llmStepRowCosts } from '../lib/llm-step-rows.js';
import { captionOp, closedLoop, generateOp, type Op } from '../lib/load.js';
import { writePlainPackage } from '../lib/plain-package.js';
import { readCpuSeconds } from '../lib/proc.js';
import type { ServerProcess } from '../lib/server-process.js';
import { now, percentile, round } from '../lib/stats.js';
import { type Floor, floor, type SuiteResult } from '../lib/types.js';

/**
 * The worker layout before (one worker, ORT's threads, at normal priority), against the server's current
 * default layout.
 */
const BEFORE = { workers: 1, intraOpThreads: 0, spinning: false, niceness: 0 };

export async function concurrencySuite(ctx: BenchContext): Promise<SuiteResult> {
  const t0 = now();
  const server = await ctx.serverProcess();
  const manifest = await readManifest(ctx.options.packageDir);
  const { png } = await testPicture(manifest.image.size);
  const { levels, generateSeconds, captionSeconds, compareSeconds } = ctx.sizes.concurrency;
  const pool = Array.from({ length: Math.max(...levels) }, () => server.client());
  const kinds: { rpc: string; op: Op; seconds: number; unit: string; scale: number }[] = [
    { rpc: 'generate', op: generateOp(), seconds: generateSeconds, unit: 'images/min', scale: 60 },
    { rpc: 'caption', op: captionOp(png), seconds: captionSeconds, unit: 'captions/s', scale: 1 },
  ];
  // What bigger token-step batches save per row, at a Generate decode's cache length (a ~24-id request row
  // and half of an image's tokens): the most batching across clients can take off those steps.
  const stepBatches = ctx.options.smoke ? [1, 4] : [1, 4, 10, 16, 32, 64, 128];
  const stepRows = await llmStepRowCosts(
    ctx.options.packageDir,
    manifest,
    stepBatches,
    24 + manifest.tokens.per_image / 2,
    ctx.options.smoke ? 3 : 40,
  );
  const rowCost = (batch: number) => stepRows.find((r) => r.batch >= batch) ?? stepRows.at(-1)!;
  const stepSaving = rowCost(10).msPerRow / stepRows.at(-1)!.msPerRow;
  const llmStepBatching = stepRows.map((r) => ({
    batch: r.batch,
    past: r.past,
    msPerCall: round(r.msPerCall),
    msPerRow: round(r.msPerRow),
    rowCostVsBatch1: round(r.msPerRow / stepRows[0]!.msPerRow),
  }));
  ctx.log(
    `concurrency: llm step ms/row by batch: ${stepRows.map((r) => `${r.batch}: ${round(r.msPerRow)}`).join(', ')}`,
  );
  const rows: Record<string, unknown>[] = [];
  const alternating: Record<string, unknown>[] = [];
  const floors: Floor[] = [];
  const compareRounds = ctx.options.smoke ? 1 : 3;
  // the x8 floor's windows; smoke sizes have no 8-client level and compare 1 with their largest instead
  const high = levels.includes(8) ? 8 : Math.max(...levels);
  for (const kind of kinds) {
    const throughput = new Map<number, number>();
    for (const n of levels) {
      const clients = pool.slice(0, n);
      await Promise.all(clients.map((c, i) => kind.op(c, i))); // one request per client: warm connections
      const { timings, elapsedMs } = await closedLoop(clients, kind.op, kind.seconds);
      const ok = timings.filter((t) => t.ok);
      const lat = ok.map((t) => t.end - t.start);
      const perSecond = ok.length / (elapsedMs / 1000);
      throughput.set(n, perSecond);
      rows.push({
        rpc: kind.rpc,
        clients: n,
        completed: ok.length,
        failed: timings.length - ok.length,
        throughput: round(perSecond * kind.scale),
        unit: kind.unit,
        p50Ms: round(percentile(lat, 50)),
        p95Ms: round(percentile(lat, 95)),
        speedupVs1: round(perSecond / throughput.get(levels[0]!)!),
      });
      ctx.log(`concurrency: ${kind.rpc} x${n}: ${round(perSecond * kind.scale)} ${kind.unit}`);
    }
    const split = await alternate(server, pool, kind.op, 1, high, compareRounds, compareSeconds);
    const ratio = split.high.perSecond / split.low.perSecond;
    alternating.push(alternatingRow(kind, high, split, compareRounds, compareSeconds));
    ctx.log(`concurrency: ${kind.rpc} x${high} / x1 alternating: ${round(ratio)}`);
    if (high === 8) {
      floors.push(
        floor(
          `concurrency.${kind.rpc}.x8`,
          `${kind.rpc}: throughput with 8 concurrent clients / with 1 (alternating windows)`,
          '>= 3x',
          round(ratio),
          'x',
          ratio >= 3,
          `one client already keeps ${round(split.low.cores)} of ${cpus().length} cores busy (so at most ` +
            `${round(cpus().length / split.low.cores)}x from more cores), and a request at 8 clients costs ` +
            `${round(split.high.coreMs)} core-ms against ${round(split.low.coreMs)} at 1 (batching saves ` +
            `${round(split.low.coreMs / split.high.coreMs)}x; a token step saves at most ` +
            `${round(stepSaving)}x per row from a batch of ${rowCost(10).batch} rows to one of ${stepRows.at(-1)!.batch})`,
        ),
      );
    }
  }
  // The same alternating windows against the package without candidates, refinement or plans.
  const plainRows: Record<string, unknown>[] = [];
  const plain = await ctx.packageServerProcess(
    writePlainPackage(ctx.options.packageDir, ctx.tempDir('plain-package')),
  );
  try {
    const plainPool = Array.from({ length: Math.max(...levels) }, () => plain.client());
    for (const kind of kinds) {
      await Promise.all(plainPool.slice(0, high).map((c, i) => kind.op(c, i)));
      const split = await alternate(plain, plainPool, kind.op, 1, high, compareRounds, compareSeconds);
      plainRows.push(alternatingRow(kind, high, split, compareRounds, compareSeconds));
      ctx.log(
        `concurrency: plain package ${kind.rpc} x${high} / x1 alternating: ${round(split.high.perSecond / split.low.perSecond)}`,
      );
    }
  } finally {
    await plain.stop();
  }
  // Before/now of the worker layout at the server level (one worker with ORT's threads, against two
  // one-thread workers sharing batches), alternating at each level.
  const tuned = await ctx.tunedServerProcess(BEFORE);
  const tunedRows: Record<string, unknown>[] = [];
  try {
    const tunedPool = Array.from({ length: Math.max(...levels) }, () => tuned.client());
    const compareLevels = ctx.options.smoke
      ? [levels[levels.length - 1]!]
      : levels.filter((n) => n === 1 || n === 8);
    const op = generateOp();
    for (const n of compareLevels) {
      const result: Record<string, number> = {};
      for (const [name, p] of [
        ['before', tunedPool],
        ['now', pool],
      ] as const) {
        const clients = p.slice(0, n);
        await Promise.all(clients.map((c, i) => op(c, i)));
        const { timings, elapsedMs } = await closedLoop(clients, op, compareSeconds);
        result[name] = (timings.filter((t) => t.ok).length / (elapsedMs / 1000)) * 60;
      }
      tunedRows.push({
        rpc: 'generate',
        clients: n,
        beforeImagesPerMin: round(result.before!),
        nowImagesPerMin: round(result.now!),
        nowOverBefore: round(result.now! / result.before!),
      });
      ctx.log(`concurrency: worker layout now x${n}: ${round(result.now! / result.before!)}x before`);
    }
  } finally {
    await tuned.stop();
  }
  return {
    suite: 'concurrency',
    seconds: (now() - t0) / 1000,
    data: {
      rows,
      levels,
      alternating,
      plainPackage: plainRows,
      llmStepBatching,
      sessionTuningServer: tunedRows,
    },
    floors,
    notes: [
      'clients are separate grpc-js client objects in the bench process (grpc-js may share one HTTP/2 connection between them)',
      'server: inference/main.ts as a child process, default settings (maxBatch 8, maxQueue 32, 2 model workers x 1 ORT thread, spinning off), 1 image per Generate, no previews',
      'alternating: the x8 floor, from windows of 1 and 8 clients in turns (1, 8 | 8, 1 | 1, 8), completed requests / time summed per level',
      'cores busy = server CPU time (all threads, /proc/pid/stat) / window time; core-ms per request = server CPU time / completed requests; nOver1 = coresN / cores1 x coreMs1 / coreMsN',
      'plainPackage: the same alternating windows against a second server with the package less its best-of-N work (no image or caption candidates, no caption refinement, no plans; bench/lib/plain-package.ts): one row per request. Not a floor row: the floor is judged on the package as shipped',
      'llmStepBatching: one LLM token step (1 new token per row over a cache of `past` positions, as the runtime feeds it) on a direct one-thread ORT session in the bench process, per batch size, median of runs (bench/lib/llm-step-rows.ts): what batching more rows can save per row',
      'sessionTuningServer: the same with the layout before (1 worker, ORT threads; bench/lib/tuned-server.ts), alternating with the real server at each level',
    ],
  };
}

interface WindowSum {
  /** Completed requests per second. */
  perSecond: number;
  /** Server CPU time / window time. */
  cores: number;
  /** Server CPU milliseconds per completed request. */
  coreMs: number;
}

/**
 * Throughput and server CPU of `low` and of `high` clients, from `rounds` pairs of windows in alternating
 * order (low, high | high, low | ...), summed per side.
 */
async function alternate(
  server: ServerProcess,
  pool: InferenceClient[],
  op: Op,
  low: number,
  high: number,
  rounds: number,
  seconds: number,
): Promise<{ low: WindowSum; high: WindowSum }> {
  const sum = { low: { done: 0, seconds: 0, cpu: 0 }, high: { done: 0, seconds: 0, cpu: 0 } };
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? (['low', 'high'] as const) : (['high', 'low'] as const)) {
      const clients = pool.slice(0, side === 'low' ? low : high);
      const cpuBefore = readCpuSeconds(server.pid) ?? Number.NaN;
      const { timings, elapsedMs } = await closedLoop(clients, op, seconds);
      sum[side].cpu += (readCpuSeconds(server.pid) ?? Number.NaN) - cpuBefore;
      sum[side].done += timings.filter((t) => t.ok).length;
      sum[side].seconds += elapsedMs / 1000;
    }
  }
  const total = (s: { done: number; seconds: number; cpu: number }): WindowSum => ({
    perSecond: s.done / s.seconds,
    cores: s.cpu / s.seconds,
    coreMs: (s.cpu * 1000) / s.done,
  });
  return { low: total(sum.low), high: total(sum.high) };
}

function alternatingRow(
  kind: { rpc: string; unit: string; scale: number },
  clients: number,
  split: { low: WindowSum; high: WindowSum },
  rounds: number,
  secondsEach: number,
): Record<string, unknown> {
  const { low, high } = split;
  return {
    rpc: kind.rpc,
    clients,
    rounds,
    secondsEach,
    throughput1: round(low.perSecond * kind.scale),
    throughputN: round(high.perSecond * kind.scale),
    unit: kind.unit,
    nOver1: round(high.perSecond / low.perSecond),
    cores1: round(low.cores),
    coresN: round(high.cores),
    coreMs1: round(low.coreMs),
    coreMsN: round(high.coreMs),
  };
}
