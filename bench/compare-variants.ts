/**
 * Whole requests through runtimes loaded with different packages or load options, alternating variant by
 * variant in one process (the A/B figures in BENCHMARKS.md, "Session 3 changes"). Run with training paused:
 *
 *   npx tsx bench/compare-variants.ts '{"old":{},"new":{"dir":"/tmp/pkg"}}' caption1,gen1,edit1 12
 *
 * A variant is LoadOptions (minus executionProvider) plus an optional package `dir`
 * (default models/shapes-ddt-small). Prints the median milliseconds per task and variant.
 */
import type { ModelRuntime } from '../inference/runtime/api.js';
import { type LoadOptions, loadModelPackage } from '../inference/runtime/index.js';
import { testPicture } from './lib/images.js';
import { median } from './lib/stats.js';

type Variant = Omit<LoadOptions, 'executionProvider'> & { dir?: string };

const [variantsJson, taskList, repsArg] = process.argv.slice(2);
if (!variantsJson) {
  console.error('usage: npx tsx bench/compare-variants.ts <variants json> [tasks] [repeats]');
  process.exit(2);
}
const variants = JSON.parse(variantsJson) as Record<string, Variant>;
const runtimes: Record<string, ModelRuntime> = {};
for (const [name, { dir, ...opts }] of Object.entries(variants)) {
  runtimes[name] = await loadModelPackage(dir ?? 'models/shapes-ddt-small', {
    executionProvider: 'cpu',
    ...opts,
  });
}
const img = (await testPicture(32, 1)).rgb;
const ctx = () => ({ signal: new AbortController().signal });
const sampling = (rt: ModelRuntime, seed = 42n) => ({ ...rt.description.defaults, seed });
const EDIT = 'make the red circle green';
const tasks: Record<string, (rt: ModelRuntime) => Promise<unknown>> = {
  caption1: (rt) => rt.caption(img, ctx()),
  caption4: (rt) => Promise.all([0, 1, 2, 3].map(() => rt.caption(img, ctx()))),
  gen1: (rt) => rt.generate('a red circle', 1, sampling(rt), ctx()),
  gen4: (rt) => rt.generate('a red circle', 4, sampling(rt), ctx()),
  gen8x: (rt) =>
    Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => rt.generate('a red circle', 1, sampling(rt, BigInt(i)), ctx())),
    ),
  edit1: (rt) => rt.edit(img, EDIT, 1, sampling(rt), ctx()),
  edit4: (rt) => rt.edit(img, EDIT, 4, sampling(rt), ctx()),
};
const which = (taskList ?? 'caption1,gen1,edit1').split(',');
for (const t of which) if (!tasks[t]) throw new Error(`unknown task ${t} (${Object.keys(tasks).join(', ')})`);
const reps = Number(repsArg ?? 12);
const times: Record<string, number[]> = {};
for (const t of which) for (const rt of Object.values(runtimes)) await tasks[t]!(rt); // warm-up
for (let r = 0; r < reps; r++) {
  for (const t of which) {
    const names = Object.keys(runtimes);
    for (const name of r % 2 ? names.reverse() : names) {
      const start = performance.now();
      await tasks[t]!(runtimes[name]!);
      const key = `${t} ${name}`;
      times[key] = [...(times[key] ?? []), performance.now() - start];
    }
  }
}
for (const t of which) {
  const cells = Object.keys(runtimes).map((n) => `${n} ${median(times[`${t} ${n}`]!).toFixed(1)} ms`);
  console.log(`${t}: ${cells.join(' | ')}`);
}
for (const rt of Object.values(runtimes)) await rt.close();
