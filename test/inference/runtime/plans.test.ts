/**
 * Planned image requests (plans.ts) on the tiny random package with prompting.plan_template and
 * edit_plan_template set: a planned Generate or Edit returns the model's plan, and its images are exactly
 * what a plain text-to-image request of that plan gives (same seed); progress reports the plan stage first.
 * Exact plans and images against the PyTorch reference: golden-training.test.ts (bundled model).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../inference/runtime/api.js';
import { type DdtRuntime, loadModelPackage, RuntimeError } from '../../../inference/runtime/index.js';
import { fillTemplate } from '../../../inference/runtime/plans.js';
import { ctx, params, patternImage } from './helpers.js';

const source = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));
const PLAN = 'where can you draw {prompt}';
const EDIT_PLAN = '{instruction} now what is in the image';
const CAPTION_EDIT_PLAN = '{caption} {instruction} now what is in the image';
const ANSWER = '{caption} {question}';
const temps: string[] = [];
let planning: DdtRuntime;
let plain: DdtRuntime;
let captioning: DdtRuntime;
let echo: DdtRuntime;

/** A copy of the tiny package with room for the edit plan question (11 tokens) and these prompting fields. */
async function tinyCopy(prompting: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ddt-plans-'));
  temps.push(dir);
  await cp(source, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  manifest.prompting.max_prompt_tokens = 16;
  Object.assign(manifest.prompting, prompting);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

beforeAll(async () => {
  const opts = { executionProvider: 'cpu' as const, maxBatch: 4 };
  const dirs = await Promise.all([
    tinyCopy({ plan_template: PLAN, edit_plan_template: EDIT_PLAN }),
    tinyCopy({}),
    tinyCopy({ edit_plan_template: CAPTION_EDIT_PLAN, answer_template: ANSWER }),
    tinyCopy({ plan_template: '{prompt}' }), // its plan of a text is the greedy answer to that text alone
  ]);
  const [a, b, c, d] = dirs;
  [planning, plain, captioning, echo] = await Promise.all([
    loadModelPackage(a, opts),
    loadModelPackage(b, opts),
    loadModelPackage(c, opts),
    loadModelPackage(d, opts),
  ]);
});
afterAll(async () => {
  await Promise.all([planning, plain, captioning, echo].map((rt) => rt?.close()));
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

describe('planned image requests (tiny random package)', () => {
  it('fills a template with the trimmed user text', () => {
    expect(fillTemplate(PLAN, 'prompt', '  two red circles ')).toBe('where can you draw two red circles');
    expect(fillTemplate(EDIT_PLAN, 'instruction', 'remove it')).toBe('remove it now what is in the image');
  });

  it('draws a generated image from the plan, exactly as a plain request of the plan would', async () => {
    let planned = 0;
    for (const [prompt, seed] of [
      ['two red circles', 5n],
      ['a blue square at the top left', 9n],
      ['circle', 13n],
    ] as const) {
      const images = await planning.generate(prompt, 2, params({ seed }), ctx());
      const plan = images[0]!.plan;
      expect(images.every((g) => g.plan === plan)).toBe(true);
      if (plan === undefined) continue; // the random model ended its plan at once: the prompt is used
      planned++;
      expect(plan.trim()).not.toBe('');
      const direct = await plain.generate(plan, 2, params({ seed }), ctx());
      expect(images.map((g) => g.tokens)).toEqual(direct.map((g) => g.tokens));
      expect(direct.every((g) => g.plan === undefined)).toBe(true);
    }
    expect(planned).toBeGreaterThan(0);
  });

  it('plans an edit as the answer to the edit plan question about the image, and draws from it', async () => {
    const image = patternImage(8, 3);
    const instruction = 'make the red circle blue';
    const [edited] = await planning.edit(image, instruction, 1, params({ seed: 21n }), ctx());
    const question = fillTemplate(EDIT_PLAN, 'instruction', instruction);
    const answer = (await plain.ask(image, question, ctx())).text;
    expect(answer).not.toBe(''); // this random model does write one here: the test would prove nothing else
    expect(edited!.plan).toBe(answer);
    const [direct] = await plain.generate(answer, 1, params({ seed: 21n }), ctx());
    expect(edited!.tokens).toEqual(direct!.tokens);
  });

  it('with {caption} in the template, captions the image first and plans from the text alone', async () => {
    const image = patternImage(8, 5);
    const instruction = 'remove the red circle';
    const events: ProgressEvent[] = [];
    const onProgress = (e: ProgressEvent) => events.push(e);
    // greedy tokens: a Generate's plan is sampled at the request's temperature, an Edit's never
    const greedy = params({ seed: 7n, temperature: 0 });
    const [edited] = await captioning.edit(image, instruction, 1, greedy, ctx({ onProgress }));
    const caption = await plain.caption(image, ctx());
    const text = CAPTION_EDIT_PLAN.replace('{caption}', caption).replace('{instruction}', instruction);
    const [direct] = await echo.generate(text, 1, greedy, ctx());
    expect(direct!.plan).toBeDefined();
    expect(edited!.plan).toBe(direct!.plan);
    expect(edited!.tokens).toEqual(direct!.tokens);
    const stages = [...new Set(events.map((e) => e.stage))];
    expect(stages.slice(0, 2)).toEqual(['caption', 'plan']);
    const fractions = events.map((e) => e.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b)); // progress never goes back
  });

  it('with answer_template, answers in text after the image caption, and returns that caption', async () => {
    const image = patternImage(8, 5);
    const question = 'what colour is the circle';
    const events: ProgressEvent[] = [];
    const answer = await captioning.ask(image, question, ctx({ onProgress: (e) => events.push(e) }));
    const caption = await plain.caption(image, ctx());
    expect(answer.caption).toBe(caption);
    // echo's plan of a text is the greedy answer to that text alone, as the answer after the caption is
    const [direct] = await echo.generate(
      fillTemplate(ANSWER, 'caption', caption).replace('{question}', question),
      1,
      params({ seed: 7n, temperature: 0 }), // a greedy plan, as answers are
      ctx(),
    );
    expect(direct!.plan).toBeDefined();
    expect(answer.text).toBe(direct!.plan);
    expect([...new Set(events.map((e) => e.stage))]).toEqual(['caption', 'tokens']);
    const fromImage = await plain.ask(image, question, ctx());
    expect(fromImage.caption).toBeUndefined();
  });

  it('checks the question against the prompt limit when it answers by caption', async () => {
    const long = Array.from({ length: 40 }, () => 'circle').join(' ');
    await expect(captioning.ask(patternImage(8, 5), long, ctx())).rejects.toBeInstanceOf(RuntimeError);
  });

  it('reports the plan stage before the image tokens, and a plain package does not', async () => {
    const stages = async (rt: DdtRuntime) => {
      const events: ProgressEvent[] = [];
      await rt.generate(
        'two red circles',
        1,
        params({ seed: 5n }),
        ctx({ onProgress: (e) => events.push(e) }),
      );
      return [...new Set(events.map((e) => e.stage))];
    };
    const planned = await stages(planning);
    expect(planned.indexOf('plan')).toBe(0);
    expect(planned).toContain('tokens');
    expect(await stages(plain)).not.toContain('plan');
  });

  it('stops while planning when the request is cancelled, before any image work', async () => {
    const controller = new AbortController();
    const before = { ...planning.counters };
    const onProgress = (e: ProgressEvent) => {
      if (e.stage === 'plan') controller.abort();
    };
    const err = await planning
      .generate('two red circles', 1, params(), ctx({ signal: controller.signal, onProgress }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).kind).toBe('cancelled');
    expect(planning.counters.denoiseCalls).toBe(before.denoiseCalls);
  });
});
