/** Whole requests through runtimes loaded with different ORT session settings, compared in one run. */
import type { ModelRuntime, RgbImage } from '../../inference/runtime/api.js';
import { type BenchContext, type BenchLayout, defaultParams, jobContext } from './context.js';
import { PROMPTS, SEED } from './inputs.js';
import { median, now, round, sleep } from './stats.js';

/**
 * Whole requests through runtimes loaded with each session setting, alternating variant by variant:
 * Generate (1 image), 8 concurrent Generates (batched), Caption. Ratios are against the first variant.
 */
export async function compareTunings(
  ctx: BenchContext,
  variants: [string, BenchLayout][],
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
