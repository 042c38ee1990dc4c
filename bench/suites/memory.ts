/**
 * 7. Memory: RSS of a fresh inference server process (models loaded and warmed), its peak (VmHWM), and
 * its growth over many requests (half Caption, half Generate, a few in flight at once).
 */
import { readManifest } from '../../inference/runtime/index.js';
import type { BenchContext } from '../lib/context.js';
import { testPicture } from '../lib/images.js';
import { captionOp, fixedCount, generateOp } from '../lib/load.js';
import { MiB } from '../lib/proc.js';
import { now, round, slope } from '../lib/stats.js';
import { floor, type SuiteResult } from '../lib/types.js';

export async function memorySuite(ctx: BenchContext): Promise<SuiteResult> {
  const t0 = now();
  const server = await ctx.serverProcess();
  const { requests, concurrency, samples } = ctx.sizes.memory;
  const client = server.client();
  const manifest = await readManifest(ctx.options.packageDir);
  const { png } = await testPicture(manifest.image.size);
  const ops = [captionOp(png), generateOp()];
  // warm-up: one of each, so lazily allocated buffers exist before the baseline
  await fixedCount(client, ops, 2 * concurrency, concurrency);
  const start = server.rss()!;
  const every = Math.max(1, Math.floor(requests / samples));
  const points: { requests: number; rssMiB: number }[] = [];
  const timings = await fixedCount(client, ops, requests, concurrency, (done) => {
    if (done % every === 0 || done === requests) {
      const r = server.rss();
      if (r) points.push({ requests: done, rssMiB: round(r.rss / MiB) });
    }
  });
  const end = server.rss()!;
  const failed = timings.filter((t) => !t.ok).length;
  const first = points[0]?.rssMiB ?? start.rss / MiB;
  const last = points[points.length - 1]?.rssMiB ?? end.rss / MiB;
  const growthMiB = round(last - first);
  const growthPct = round(((last - first) / first) * 100);
  const perRequestKiB = round(
    slope(
      points.map((p) => p.requests),
      points.map((p) => p.rssMiB * 1024),
    ),
  );
  return {
    suite: 'memory',
    seconds: (now() - t0) / 1000,
    data: {
      requests,
      concurrency,
      failed,
      startupMs: round(server.startupMs),
      rssAtReadyMiB: round(server.rssAtReady.rss / MiB),
      rssAfterWarmupMiB: round(start.rss / MiB),
      rssEndMiB: round(end.rss / MiB),
      peakRssMiB: round(end.peak / MiB),
      samples: points,
      growthMiB,
      growthPct,
      slopeKiBPerRequest: perRequestKiB,
    },
    floors: [
      floor(
        'memory.growth',
        `RSS growth of the server from the first sample to request ${requests} (after warm-up)`,
        '<= 10 %',
        growthPct,
        '%',
        growthPct <= 10,
        'growth over the run: look for per-request buffers that are kept (KV caches, previews) or an undersized V8 heap warm-up',
      ),
      floor(
        'memory.failed',
        'requests that failed during the memory run',
        '= 0',
        failed,
        'requests',
        failed === 0,
      ),
    ],
    notes: [
      'RSS from /proc/<pid>/status (VmRSS; peak = VmHWM since process start, including model loading and warm-up)',
      'the first sample is taken after requests/samples requests, so allocator/V8 warm-up is not counted as growth',
    ],
  };
}
