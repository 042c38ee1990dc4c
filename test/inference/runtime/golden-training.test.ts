/**
 * Golden parity with the PyTorch reference in training/ddt/pipeline.py (written by training/export.py
 * --golden). Token ids must match exactly under greedy decoding; decoded pixels within a small tolerance
 * (PyTorch vs ONNX Runtime float differences can flip a rounding, and the sampler amplifies them a little).
 * Runs for the test package and for the bundled model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DdtRuntime, loadModelPackage } from '../../../inference/runtime/index.js';
import { ctx } from './helpers.js';

interface Golden {
  image_size: number;
  generate: {
    prompt: string;
    seed: string;
    guidance_scale: number;
    temperature: number;
    steps: number;
    tokens: number[];
    pixels: string;
    /** The model's layout the image was drawn from, when the package plans. */
    plan?: string;
  }[];
  encode: { pixels: string; tokens: number[] };
  caption: { tokens: number[]; text: string };
  /**
   * Scenes whose caption (the default: reranked, refined where the package refines) differs from the greedy
   * one, or from the reranked one before refinement (`reranked`, when the package refines).
   */
  caption_reranked?: { pixels: string; greedy: string; reranked?: string; text: string }[];
  /** Prompts whose reranked image (the default) differs from the request's own codes. */
  generate_reranked?: { prompt: string; seed: string; own: number[]; tokens: number[]; plan?: string }[];
  /** An edit of the encode scene, when the package plans: the caption of the edited image, then its image. */
  edit_planned?: { instruction: string; seed: string; plan: string; tokens: number[] };
  /** Planned edits whose image the closeness to the source chose (generation.edit_image_candidate_source_weight). */
  edit_planned_source?: {
    pixels: string;
    instruction: string;
    seed: string;
    plan: string;
    tokens: number[];
    without_source: number[];
  }[];
  ask: { tokens: number[]; question: string; answer: string; caption?: string };
  decode_keep: { tokens: number[]; keep: number; seed: string; steps: number; pixels: string };
}

const PIXEL_MAX_DIFF = 24; // a few pixels on anti-aliased edges may move; the mean must stay tiny
const PIXEL_MEAN_DIFF = 0.75;

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const cases = [
  {
    name: 'tiny-ddt',
    dir: root('test/fixtures/models/tiny-ddt'),
    golden: root('test/fixtures/golden/tiny-ddt.json'),
  },
  {
    name: 'shapes-ddt-small',
    dir: root('models/shapes-ddt-small'),
    golden: root('test/fixtures/golden/shapes-ddt-small.json'),
  },
];

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function expectPixelsClose(got: Uint8Array, want: Uint8Array) {
  expect(got.length).toBe(want.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  expect(max).toBeLessThanOrEqual(PIXEL_MAX_DIFF);
  expect(sum / got.length).toBeLessThanOrEqual(PIXEL_MEAN_DIFF);
}

for (const c of cases) {
  describe(`${c.name} vs the PyTorch reference (training/ddt/pipeline.py)`, () => {
    let rt: DdtRuntime;
    const golden = JSON.parse(readFileSync(c.golden, 'utf8')) as Golden;
    beforeAll(async () => {
      expect(existsSync(c.dir), `${c.dir} is missing`).toBe(true);
      rt = await loadModelPackage(c.dir, { executionProvider: 'cpu' });
    });
    afterAll(async () => {
      await rt?.close();
    });

    it('greedy generation gives the same token ids and nearly the same pixels', async () => {
      for (const g of golden.generate) {
        const [img] = await rt.generate(
          g.prompt,
          1,
          {
            seed: BigInt(g.seed),
            guidanceScale: g.guidance_scale,
            temperature: g.temperature,
            topK: 0,
            topP: 1,
            steps: g.steps,
          },
          ctx(),
        );
        expect(img!.plan, g.prompt).toBe(g.plan);
        expect(img!.tokens, g.prompt).toEqual(g.tokens);
        expectPixelsClose(img!.image.data, b64(g.pixels));
      }
    });

    it('encodes a rendered scene to the same codes', async () => {
      const size = golden.image_size;
      const tokens = await rt.encode({ width: size, height: size, data: b64(golden.encode.pixels) }, ctx());
      expect(tokens).toEqual(golden.encode.tokens);
    });

    it('captions (reranked) and answers (greedy) like the reference', async () => {
      const size = golden.image_size;
      const image = { width: size, height: size, data: b64(golden.encode.pixels) };
      expect(await rt.caption(image, ctx())).toBe(golden.caption.text);
      const answer = await rt.ask(image, golden.ask.question, ctx());
      // the caption is there when the model reads its answers off one (prompting.answer_template)
      expect(answer).toEqual({
        text: golden.ask.answer,
        ...(golden.ask.caption === undefined ? {} : { caption: golden.ask.caption }),
      });
    });

    // only packages that rerank have such cases (the tiny fixture does not)
    const generation = JSON.parse(readFileSync(join(c.dir, 'manifest.json'), 'utf8')).generation;
    if (generation.caption_candidates > 0 || generation.caption_refine)
      it('reranks and refines captions like the reference, where that changes the caption', async () => {
        const cases = golden.caption_reranked ?? [];
        expect(cases.length, 'export.py found no scene where reranking changes the caption').toBeGreaterThan(
          0,
        );
        if (generation.caption_refine) {
          const refined = cases.filter((c) => c.reranked !== undefined && c.text !== c.reranked);
          expect(
            refined.length,
            'export.py found no scene where refinement changes the caption',
          ).toBeGreaterThan(0);
        }
        const size = golden.image_size;
        for (const c of cases) {
          expect(c.text !== c.greedy || c.text !== c.reranked).toBe(true);
          expect(await rt.caption({ width: size, height: size, data: b64(c.pixels) }, ctx())).toBe(c.text);
        }
      });

    if (generation.image_candidates > 0)
      it('reranks image candidates like the reference, where that changes the image', async () => {
        const cases = golden.generate_reranked ?? [];
        expect(cases.length, 'export.py found no prompt where reranking changes the image').toBeGreaterThan(
          0,
        );
        for (const g of cases) {
          expect(g.tokens).not.toEqual(g.own);
          const params = {
            seed: BigInt(g.seed),
            guidanceScale: 1,
            temperature: 0,
            topK: 0,
            topP: 1,
            steps: 1,
          };
          const [img] = await rt.generate(g.prompt, 1, params, ctx());
          expect(img!.plan, g.prompt).toBe(g.plan);
          expect(img!.tokens, g.prompt).toEqual(g.tokens);
        }
      });

    if (golden.edit_planned)
      it('plans an edit and draws it like the reference', async () => {
        const e = golden.edit_planned!;
        const size = golden.image_size;
        const image = { width: size, height: size, data: b64(golden.encode.pixels) };
        const { guidance_scale: guidanceScale, steps } = golden.generate[0]!; // the reference's sampling
        const params = { seed: BigInt(e.seed), guidanceScale, temperature: 0, topK: 0, topP: 1, steps };
        const [img] = await rt.edit(image, e.instruction, 1, params, ctx());
        expect(img!.plan).toBe(e.plan);
        expect(img!.tokens).toEqual(e.tokens);
      });

    if (golden.edit_planned_source?.length)
      it("scores an edit's candidates by closeness to the source like the reference", async () => {
        const size = golden.image_size;
        const { guidance_scale: guidanceScale, steps } = golden.generate[0]!;
        for (const e of golden.edit_planned_source!) {
          const image = { width: size, height: size, data: b64(e.pixels) };
          const params = { seed: BigInt(e.seed), guidanceScale, temperature: 0, topK: 0, topP: 1, steps };
          const [img] = await rt.edit(image, e.instruction, 1, params, ctx());
          expect(img!.plan).toBe(e.plan);
          expect(img!.tokens).toEqual(e.tokens); // what the reference chose with the source term
          expect(img!.tokens).not.toEqual(e.without_source); // and not what it chose without it
        }
      });

    it('decodes the coarsest codes only, with the same noise', async () => {
      const d = golden.decode_keep;
      const img = await rt.decode(
        d.tokens,
        d.keep,
        { seed: BigInt(d.seed), guidanceScale: 1, temperature: 0, topK: 0, topP: 1, steps: d.steps },
        ctx(),
      );
      expectPixelsClose(img.data, b64(d.pixels));
    });
  });
}
