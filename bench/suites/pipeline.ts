/**
 * 1. Pipeline speed: the TypeScript/ONNX Runtime pipeline (in-process runtime from loadModels, ORT in its
 * worker thread) against the PyTorch reference (training/ddt/pipeline.py, torch.set_num_threads(2)), same
 * package weights, prompts, seeds, step counts and batch sizes, alternating run by run.
 */
import { join } from 'node:path';
import type { RgbImage } from '../../inference/runtime/api.js';
import { readManifest } from '../../inference/runtime/index.js';
import { type BenchContext, defaultParams, jobContext, REPO_ROOT } from '../lib/context.js';
import { EDIT_INSTRUCTION, PROMPTS, SEED } from '../lib/inputs.js';
import { Reference, type ReferenceTiming } from '../lib/reference.js';
import { median, now, round } from '../lib/stats.js';
import { floor, type SuiteResult } from '../lib/types.js';

type Task = 'generate' | 'edit' | 'caption';
const TASKS: Task[] = ['generate', 'edit', 'caption'];

interface Sample {
  ts: number; // seconds per call
  py: number;
  pyRoundTrip: number;
  pyStages: Record<string, number>;
  tsTokens?: number[][];
  pyTokens?: number[][];
  tsText?: string[];
  pyText?: string[];
}

export async function pipelineSuite(ctx: BenchContext): Promise<SuiteResult> {
  const t0 = now();
  const { run } = ctx.options;
  const base = { suite: 'pipeline' as const, floors: [], notes: [] };
  if (!run) {
    return { ...base, seconds: 0, data: {}, skipped: 'no --run (training run for the PyTorch reference)' };
  }
  const manifest = await readManifest(ctx.options.packageDir);
  const preset = ctx.options.preset ?? (manifest.training as { preset?: string } | undefined)?.preset;
  if (!preset) return { ...base, seconds: 0, data: {}, skipped: 'no --preset and none in manifest.training' };
  const exportTo = run === 'random' ? join(ctx.tempDir('refpkg'), 'bench-random') : undefined;
  ctx.log(`pipeline: starting the PyTorch reference (run ${run}, preset ${preset})`);
  const ref = await Reference.start({
    repoRoot: REPO_ROOT,
    python: ctx.options.python,
    run,
    preset,
    threads: 2,
    exportTo,
  });
  try {
    const pkg = await ctx.load(ref.ready.exported ?? ctx.options.packageDir);
    const { runtime, manifest: m } = pkg;
    if (ref.ready.image_size !== m.image.size || ref.ready.tokens_per_image !== m.tokens.per_image) {
      throw new Error('the reference run and the package disagree on image size or tokens per image');
    }
    const params = defaultParams(runtime, SEED);
    const pySampling = {
      seed: SEED.toString(),
      steps: params.steps,
      guidance: params.guidanceScale,
      temperature: params.temperature,
      top_k: params.topK,
      top_p: params.topP,
    };
    const images: RgbImage[] = ref.images();
    const prompt = PROMPTS[0]!;

    const runTs = async (task: Task, batch: number, steps: number) => {
      const start = now();
      const p = { ...params, steps };
      if (task === 'generate') {
        const out = await runtime.generate(prompt, batch, p, jobContext());
        return { seconds: (now() - start) / 1000, tokens: out.map((g) => g.tokens) };
      }
      if (task === 'edit') {
        const out = await runtime.edit(images[0]!, EDIT_INSTRUCTION, batch, p, jobContext());
        return { seconds: (now() - start) / 1000, tokens: out.map((g) => g.tokens) };
      }
      const text = await Promise.all(
        Array.from({ length: batch }, () => runtime.caption(images[1]!, jobContext())),
      );
      return { seconds: (now() - start) / 1000, text };
    };
    // the package's image reranking settings and plans, as the runtime applies them
    const imageRerank = {
      image_candidates: manifest.generation.image_candidates,
      image_temperature: manifest.generation.image_candidate_temperature,
      image_forward_weight: manifest.generation.image_candidate_forward_weight,
      image_round_trip: manifest.generation.image_candidate_round_trip,
      image_caption_weight: manifest.generation.image_candidate_caption_weight,
      image_edit_round_trip: manifest.generation.edit_image_candidate_round_trip,
      image_edit_source_weight: manifest.generation.edit_image_candidate_source_weight,
    };
    const g = manifest.generation;
    // the package's caption settings (Pipeline.caption's CaptionRerank, training/bench_reference.py)
    const captionRerank = {
      caption_candidates: g.caption_candidates,
      caption_temperature: g.caption_candidate_temperature,
      caption_likelihood_weight: g.caption_likelihood_weight,
      caption_refine: g.caption_refine,
    };
    const plans = manifest.prompting;
    // with {caption} in the template the image is captioned first (as Caption does), then asked in text
    const editPlan = plans.edit_plan_template?.includes('{caption}')
      ? { plan: 'caption', ...captionRerank }
      : { plan: 'image' };
    const runPy = async (task: Task, batch: number, steps: number) => {
      const sampling = { ...pySampling, steps };
      const req =
        task === 'generate'
          ? {
              op: 'generate',
              prompt,
              count: batch,
              ...sampling,
              ...imageRerank,
              plan: plans.plan_template !== undefined,
            }
          : task === 'edit'
            ? {
                op: 'edit',
                image: 0,
                instruction: EDIT_INSTRUCTION,
                count: batch,
                ...sampling,
                // a planned edit is a text-to-image request of its plan: reranked like one
                ...(plans.edit_plan_template !== undefined ? { ...imageRerank, ...editPlan } : {}),
              }
            : { op: 'caption', image: 1, count: batch, ...captionRerank };
      const start = now();
      const res = await ref.request<ReferenceTiming>({ ...req, repeat: 1 });
      return { res, roundTrip: (now() - start) / 1000 };
    };

    const { repeats, warmup, batches } = ctx.sizes.pipeline;
    // the package's default decoder steps (floors), and 10 steps (the earlier default) for comparison;
    // captions do not decode, so they run once
    const stepCounts = [...new Set([params.steps, ...(ctx.sizes.pipeline.extraSteps ?? [])])];
    const cases = batches.flatMap((batch) =>
      stepCounts.flatMap((steps, si) =>
        TASKS.filter((task) => si === 0 || task !== 'caption').map((task) => ({ batch, task, steps })),
      ),
    );
    const samples = new Map<string, Sample[]>();
    for (let rep = 0; rep < warmup + repeats; rep++) {
      for (const { batch, task, steps } of cases) {
        // Alternate which side goes first, so drift and cache effects do not favour one side.
        let ts: Awaited<ReturnType<typeof runTs>>;
        let py: Awaited<ReturnType<typeof runPy>>;
        if (rep % 2 === 0) {
          ts = await runTs(task, batch, steps);
          py = await runPy(task, batch, steps);
        } else {
          py = await runPy(task, batch, steps);
          ts = await runTs(task, batch, steps);
        }
        if (rep < warmup) continue;
        const key = `${task}/${batch}/${steps}`;
        const list = samples.get(key) ?? [];
        list.push({
          ts: ts.seconds,
          py: py.res.seconds[0]!,
          pyRoundTrip: py.roundTrip,
          pyStages: py.res.stages,
          tsTokens: ts.tokens,
          pyTokens: py.res.tokens,
          tsText: ts.text,
          pyText: py.res.text,
        });
        samples.set(key, list);
      }
      ctx.log(`pipeline: repeat ${rep + 1}/${warmup + repeats}${rep < warmup ? ' (warm-up)' : ''}`);
    }

    // FLOPs of one row of each graph as torch counts them (cross-check for the ORT-profile counts in `stages`)
    const referenceFlops = await ref.request<Record<string, unknown>>({
      op: 'flops',
      batch: 1,
      prompt_len: 14,
      past: 22,
    });
    delete referenceFlops.ok;
    const rows = [...samples.entries()].map(([key, list]) => {
      const [task, b, st] = key.split('/') as [Task, string, string];
      const batch = Number(b);
      const steps = task === 'caption' ? null : Number(st);
      const tsMs = median(list.map((s) => s.ts)) * 1000;
      const pyMs = median(list.map((s) => s.py)) * 1000;
      const speedup = median(list.map((s) => s.py / s.ts)); // paired, per repeat
      const first = list[0]!;
      const agree = tokenAgreement(first.tsTokens, first.pyTokens);
      const stageNames = Object.keys(first.pyStages);
      return {
        task,
        batch,
        steps,
        repeats: list.length,
        tsMsPerCall: round(tsMs),
        pyMsPerCall: round(pyMs),
        tsMsPerImage: round(tsMs / batch),
        pyMsPerImage: round(pyMs / batch),
        speedup: round(speedup),
        pyIpcMs: round(median(list.map((s) => s.pyRoundTrip - s.py)) * 1000),
        pyStagesMs: Object.fromEntries(
          stageNames.map((n) => [n, round(median(list.map((s) => s.pyStages[n] ?? 0)) * 1000)]),
        ),
        tokenAgreement: agree,
        textEqual: first.tsText && first.pyText ? first.tsText.every((t, i) => t === first.pyText![i]) : null,
      };
    });
    const floors = rows
      .filter((r) => r.steps === null || r.steps === params.steps)
      .map((r) =>
        floor(
          `pipeline.${r.task}.b${r.batch}.speedup`,
          `${r.task}, batch ${r.batch}: PyTorch time / TypeScript time per image`,
          '>= 2x',
          r.speedup,
          'x',
          r.speedup >= 2,
          'see the per-stage breakdown (stages suite): per-call overhead of tiny graphs dominates',
        ),
      );
    const notes = [
      `PyTorch ${ref.ready.torch}, torch threads ${ref.ready.threads}; ORT CPU provider in one worker thread`,
      'TypeScript time = wall time of the runtime call (includes worker messaging, sampling, pixel conversion);' +
        ' PyTorch time = wall time measured inside the Python process (stdin/stdout IPC excluded, shown as pyIpcMs)',
      'caption batch B = B concurrent runtime.caption calls (batched by the runtime) vs pipe.answer on B rows',
    ];
    return {
      suite: 'pipeline',
      seconds: (now() - t0) / 1000,
      data: {
        run,
        preset,
        package: pkg.dir,
        sampling: pySampling,
        prompt,
        editInstruction: EDIT_INSTRUCTION,
        rows,
        referenceFlops,
      },
      floors,
      notes,
    };
  } finally {
    await ref.close();
  }
}

/** Fraction of equal code ids between the two pipelines' outputs (same seeds; float differences may flip draws). */
function tokenAgreement(a: number[][] | undefined, b: number[][] | undefined): number | null {
  if (!a || !b || a.length !== b.length) return null;
  let same = 0;
  let total = 0;
  a.forEach((row, i) => {
    row.forEach((t, j) => {
      total++;
      if (b[i]?.[j] === t) same++;
    });
  });
  return total === 0 ? null : round(same / total);
}
