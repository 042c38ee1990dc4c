/**
 * 4. Responsiveness: health-check latency and time to the first stream events while the server is
 * saturated with Generate jobs that ask for previews (the bot's workload).
 */
import type { BenchContext } from '../lib/context.js';
import { closedLoop, generateOp } from '../lib/load.js';
import { now, percentile, round, sleep } from '../lib/stats.js';
import { floor, type SuiteResult } from '../lib/types.js';

async function probeHealth(
  ask: () => Promise<unknown>,
  until: () => boolean,
  intervalMs: number,
): Promise<number[]> {
  const lat: number[] = [];
  while (!until()) {
    const s = now();
    await ask();
    lat.push(now() - s);
    await sleep(intervalMs);
  }
  return lat;
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
  const load = Array.from({ length: clients }, () => server.client());
  let running = true;
  const loaded = closedLoop(load, generateOp({ previews: true }), seconds).finally(() => {
    running = false;
  });
  await sleep(Math.min(500, seconds * 200)); // let the queue fill
  const busy = await probeHealth(
    () => health.checkHealth(),
    () => !running,
    healthIntervalMs,
  );
  const { timings, elapsedMs } = await loaded;
  const ok = timings.filter((t) => t.ok);
  const col = (k: 'firstEventMs' | 'firstProgressMs' | 'firstPreviewMs') =>
    ok.map((t) => t[k]).filter((v): v is number => v !== undefined);
  const first = col('firstEventMs');
  const progress = col('firstProgressMs');
  const preview = col('firstPreviewMs');
  const p99 = percentile(busy, 99);
  return {
    suite: 'responsiveness',
    seconds: (now() - t0) / 1000,
    data: {
      clients,
      loadSeconds: round(elapsedMs / 1000),
      generateCompleted: ok.length,
      generateFailed: timings.length - ok.length,
      healthIdle: { n: idle.length, p50Ms: round(percentile(idle, 50)), p99Ms: round(percentile(idle, 99)) },
      healthSaturated: {
        n: busy.length,
        p50Ms: round(percentile(busy, 50)),
        p99Ms: round(p99),
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
        `health check p99 while ${clients} clients keep the server saturated`,
        '< 20 ms',
        round(p99),
        'ms',
        p99 < 20,
        'the server main thread is busy (sharp, protobuf, sampling, Euler updates) between model calls',
      ),
    ],
    notes: [
      'first event = the first queued or progress message of a Generate stream; queued jobs wait for a free batch slot',
      `health checks every ${healthIntervalMs} ms on their own client object`,
    ],
  };
}
