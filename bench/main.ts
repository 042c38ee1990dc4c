/**
 * `npm run bench -- [suite ...] [options]`: the benchmarks of BENCHMARKS.md.
 *
 *   npm run bench                       # every suite, full size, bundled package models/shapes-ddt-small
 *   npm run bench -- --smoke            # seconds-long sizes (CI: test/bench/smoke.test.ts)
 *   npm run bench -- pipeline stages    # some suites only
 *
 * Suites: pipeline serving stages memory concurrency responsiveness bot (default: all, in that order).
 * Options:
 *   --smoke                 smoke sizes (not representative; structure only)
 *   --package DIR           model package (default models/shapes-ddt-small)
 *   --run DIR|random|none   training run for the PyTorch reference (default: training/checkpoints/<preset>, the
 *                           bundled package's weights, else training/runs/<preset>, of the package's
 *                           manifest.training.preset when it exists; 'random' with --smoke)
 *   --preset NAME           preset of the run (default: manifest.training.preset, or "tiny" with --run random)
 *   --python PATH           Python with torch (default $PYTHON_VENV/bin/python or .venv/bin/python)
 *   --max-batch N           runtime maxBatch of the in-process runtime (default 8, the server's default)
 *   --out DIR               where bench-<time>.json/.md and latest.json/.md go (default bench/results)
 *   --sizes JSON            override sizes, e.g. '{"concurrency":{"levels":[1,8]},"memory":{"requests":200}}'
 *   --update-doc            also write the results between the markers in BENCHMARKS.md
 *   --quiet                 no progress lines on stderr
 * Exit status: 0 when every suite ran (floors may still be missed: see the report), 1 when a suite failed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readManifest } from '../inference/runtime/index.js';
import { BenchContext, type BenchOptions, ensureDir, REPO_ROOT } from './lib/context.js';
import { machineInfo } from './lib/machine.js';
import { renderMarkdown } from './lib/report.js';
import { now } from './lib/stats.js';
import { type BenchReport, SUITES, type SuiteName, type SuiteResult } from './lib/types.js';
import { botSuite } from './suites/bot.js';
import { concurrencySuite } from './suites/concurrency.js';
import { memorySuite } from './suites/memory.js';
import { pipelineSuite } from './suites/pipeline.js';
import { responsivenessSuite } from './suites/responsiveness.js';
import { servingSuite } from './suites/serving.js';
import { stagesSuite } from './suites/stages.js';

const RUNNERS: Record<SuiteName, (ctx: BenchContext) => Promise<SuiteResult>> = {
  pipeline: pipelineSuite,
  serving: servingSuite,
  stages: stagesSuite,
  memory: memorySuite,
  concurrency: concurrencySuite,
  responsiveness: responsivenessSuite,
  bot: botSuite,
};
/** Suites after this one use the server process; the in-process runtimes are closed first. */
const FIRST_SERVER_SUITE: SuiteName = 'memory';

interface Args {
  suites: SuiteName[];
  options: BenchOptions;
  out: string;
  updateDoc: boolean;
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\nsee the header of bench/main.ts for usage\n`);
  process.exit(2);
}

async function parseArgs(argv: string[]): Promise<Args> {
  const suites: SuiteName[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--smoke' || a === '--quiet' || a === '--update-doc') flags[a.slice(2)] = true;
    else if (a.startsWith('--')) {
      const [k, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      flags[k] = v;
    } else if (a === 'all') suites.push(...SUITES);
    else if ((SUITES as readonly string[]).includes(a)) suites.push(a as SuiteName);
    else usage(`unknown suite "${a}" (suites: ${SUITES.join(', ')})`);
  }
  const known = [
    'smoke',
    'quiet',
    'update-doc',
    'package',
    'run',
    'preset',
    'python',
    'max-batch',
    'out',
    'sizes',
  ];
  for (const k of Object.keys(flags)) if (!known.includes(k)) usage(`unknown option --${k}`);
  const smoke = flags.smoke === true;
  const packageDir = resolve(String(flags.package ?? join(REPO_ROOT, 'models', 'shapes-ddt-small')));
  if (!existsSync(join(packageDir, 'manifest.json'))) usage(`no model package at ${packageDir}`);
  const manifest = await readManifest(packageDir);
  const trainedPreset = (manifest.training as { preset?: string } | undefined)?.preset;
  let run = flags.run === undefined ? undefined : String(flags.run);
  if (run === undefined && smoke) run = 'random';
  else if (run === undefined && trainedPreset) {
    // the export's slim checkpoints hold the bundled package's weights; a run directory may hold others
    // (session 17: training/runs/small held an older step, and the token agreement came out 0)
    run = ['checkpoints', 'runs']
      .map((dir) => join(REPO_ROOT, 'training', dir, trainedPreset))
      .find((dir) => existsSync(join(dir, 'llm.pt')));
  }
  if (run === 'none') run = undefined;
  if (run && run !== 'random') run = resolve(run);
  const preset = flags.preset ? String(flags.preset) : run === 'random' ? 'tiny' : trainedPreset;
  const venv = process.env.PYTHON_VENV ?? join(REPO_ROOT, '.venv');
  const maxBatch = Number(flags['max-batch'] ?? 8);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) usage('--max-batch must be a positive integer');
  const unique = [...new Set(suites.length ? suites : SUITES)];
  return {
    suites: SUITES.filter((s) => unique.includes(s)), // fixed order: in-process suites, then the server ones
    options: {
      smoke,
      packageDir,
      run,
      preset,
      python: String(flags.python ?? join(venv, 'bin', 'python')),
      maxBatch,
      quiet: flags.quiet === true,
      sizeOverrides: flags.sizes ? parseSizes(String(flags.sizes)) : undefined,
    },
    out: resolve(String(flags.out ?? join(REPO_ROOT, 'bench', 'results'))),
    updateDoc: flags['update-doc'] === true,
  };
}

function parseSizes(json: string): BenchOptions['sizeOverrides'] {
  try {
    const v = JSON.parse(json) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    for (const k of Object.keys(v))
      if (!(SUITES as readonly string[]).includes(k)) throw new Error(`unknown suite ${k}`);
    return v as BenchOptions['sizeOverrides'];
  } catch (err) {
    return usage(`--sizes: ${(err as Error).message}`);
  }
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/** Replaces the generated part of BENCHMARKS.md (between the markers) with this run's tables. */
function updateBenchmarksDoc(md: string, ctx: BenchContext): void {
  const file = join(REPO_ROOT, 'BENCHMARKS.md');
  const doc = readFileSync(file, 'utf8');
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) {
    ctx.log(`BENCHMARKS.md has no ${START} ... ${END} markers; not updated`);
    return;
  }
  writeFileSync(
    file,
    `${doc.slice(0, a + START.length)}\n${md.replace(/^## Results/, '### Generated results')}\n${doc.slice(b)}`,
  );
  ctx.log('updated BENCHMARKS.md');
}

async function main(): Promise<void> {
  const args = await parseArgs(process.argv.slice(2));
  const ctx = new BenchContext(args.options);
  const manifest = await readManifest(args.options.packageDir);
  const preset = (manifest.training as { preset?: string } | undefined)?.preset ?? null;
  const report: BenchReport = {
    version: 1,
    startedAt: new Date().toISOString(),
    smoke: args.options.smoke,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machineInfo(),
    model: {
      name: manifest.name,
      dir: args.options.packageDir,
      preset,
      trained: Number((manifest.training as { llm_steps?: number } | undefined)?.llm_steps ?? 0) > 100,
    },
    suites: [],
    floors: [],
  };
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  ensureDir(args.out);
  const save = () => {
    report.floors = report.suites.flatMap((s) => s.floors);
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const md = renderMarkdown(report);
    for (const name of [`bench-${stamp}`, 'latest']) {
      writeFileSync(join(args.out, `${name}.json`), json);
      writeFileSync(join(args.out, `${name}.md`), md);
    }
    return md;
  };
  let failed = false;
  let unloaded = false;
  try {
    for (const suite of args.suites) {
      if (!unloaded && SUITES.indexOf(suite) >= SUITES.indexOf(FIRST_SERVER_SUITE)) {
        await ctx.unloadAll(); // the server process gets the cores and memory to itself
        unloaded = true;
      }
      ctx.log(`suite ${suite}`);
      const start = now();
      try {
        report.suites.push(await RUNNERS[suite](ctx));
      } catch (err) {
        failed = true;
        ctx.log(`suite ${suite} failed: ${(err as Error).stack ?? err}`);
        report.suites.push({
          suite,
          seconds: (now() - start) / 1000,
          data: {},
          floors: [],
          notes: [],
          skipped: `error: ${(err as Error).message}`,
        });
      }
      save(); // after every suite, so a run stopped by a time limit keeps what it measured
    }
  } finally {
    await ctx.close();
  }
  const md = save();
  process.stdout.write(md);
  if (args.updateDoc) updateBenchmarksDoc(md, ctx);
  ctx.log(`wrote ${join(args.out, `bench-${stamp}.json`)} and .md`);
  process.exit(failed ? 1 : 0);
}

await main();
