/**
 * 4. Responsiveness: health-check latency and time to the first stream events while the server is
 * saturated with Generate jobs that ask for previews (the bot's workload).
 *
 * Health is probed twice at the same time: from a process of its own (bench/lib/health-prober.ts), as an
 * orchestrator probes a server, which is the floor's figure; and, as before, from the bench process that
 * also runs the 16 streaming clients, whose own event-loop stalls (decoding their previews) add to it.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type BenchContext, REPO_ROOT } from '../lib/context.js';
import { closedLoop, generateOp, probeHealth } from '../lib/load.js';
import { now, percentile, round, sleep } from '../lib/stats.js';
import { floor, type SuiteResult } from '../lib/types.js';

/** Starts the prober process; `run` then probes for durationMs and returns its latencies. */
async function startProber(address: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/health-prober.ts', address], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ready = await lines.next();
  if (ready.value !== 'ready') throw new Error(`health prober did not start (${String(ready.value)})`);
  return {
    run: async (durationMs: number, intervalMs: number): Promise<number[]> => {
      child.stdin!.write(`${Math.round(durationMs)} ${intervalMs}\n`);
      const out = await lines.next();
      return JSON.parse(String(out.value)) as number[];
    },
    stop: () => child.kill(),
  };
}

export async function responsivenessSuite(ctx: BenchContext): Promise<SuiteResult> {
  const t0 = now();
  const server = await ctx.serverProcess();
  const { clients, seconds, healthIntervalMs } = ctx.sizes.responsiveness;
  const health = server.client();
  await health.checkHealth();
  // idle baseline
  const idleEnd = now() + Math.min(2000, seconds * 500);
  const idle = await probeHealth(
    () => health.checkHealth(),
    () => now() > idleEnd,
    healthIntervalMs,
  );
  // saturated
  const prober = await startProber(server.address);
  const load = Array.from({ length: clients }, () => server.client());
  let running = true;
  const loaded = closedLoop(load, generateOp({ previews: true }), seconds).finally(() => {
    running = false;
  });
  const fillMs = Math.min(500, seconds * 200);
  await sleep(fillMs); // let the queue fill
  const [busy, separate] = await Promise.all([
    probeHealth(
      () => health.checkHealth(),
      () => !running,
      healthIntervalMs,
    ),
    prober.run(seconds * 1000 - fillMs - 100, healthIntervalMs).finally(() => prober.stop()),
  ]);
  const { timings, elapsedMs } = await loaded;
  const ok = timings.filter((t) => t.ok);
  const col = (k: 'firstEventMs' | 'firstProgressMs' | 'firstPreviewMs') =>
    ok.map((t) => t[k]).filter((v): v is number => v !== undefined);
  const first = col('firstEventMs');
  const progress = col('firstProgressMs');
  const preview = col('firstPreviewMs');
  const p99 = percentile(separate, 99);
  return {
    suite: 'responsiveness',
    seconds: (now() - t0) / 1000,
    data: {
      clients,
      loadSeconds: round(elapsedMs / 1000),
      generateCompleted: ok.length,
      generateFailed: timings.length - ok.length,
      healthIdle: { n: idle.length, p50Ms: round(percentile(idle, 50)), p99Ms: round(percentile(idle, 99)) },
      healthSaturatedSeparateProcess: {
        n: separate.length,
        p50Ms: round(percentile(separate, 50)),
        p99Ms: round(p99),
        maxMs: round(Math.max(...separate)),
      },
      healthSaturatedFromLoadProcess: {
        n: busy.length,
        p50Ms: round(percentile(busy, 50)),
        p99Ms: round(percentile(busy, 99)),
        maxMs: round(Math.max(...busy)),
      },
      firstEventMs: { p50: round(percentile(first, 50)), p99: round(percentile(first, 99)) },
      firstProgressMs: { p50: round(percentile(progress, 50)), p99: round(percentile(progress, 99)) },
      firstPreviewMs: { p50: round(percentile(preview, 50)), p99: round(percentile(preview, 99)) },
      generateLatencyMs: {
        p50: round(
          percentile(
            ok.map((t) => t.end - t.start),
            50,
          ),
        ),
        p95: round(
          percentile(
            ok.map((t) => t.end - t.start),
            95,
          ),
        ),
      },
    },
    floors: [
      floor(
        'responsiveness.health.p99',
        `health check p99 (prober in its own process) while ${clients} clients keep the server saturated`,
        '< 20 ms',
        round(p99),
        'ms',
        p99 < 20,
        'the server main thread is busy (sharp, protobuf, sampling, Euler updates) between model calls',
      ),
    ],
    notes: [
      'first event = the first queued or progress message of a Generate stream; queued jobs wait for a free batch slot',
      `health checks every ${healthIntervalMs} ms, at the same time from a prober process of its own (the floor) and from the bench process that runs the load (its own stalls included)`,
    ],
  };
}
