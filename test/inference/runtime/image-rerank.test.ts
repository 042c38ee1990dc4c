/**
 * Images by self-reranking (image-rerank.ts) on the tiny random package with generation.image_candidates
 * set: the result is one of the image's candidates, each candidate is the stream a plain request with the
 * candidate's seed and temperature would sample, and unplanned edits are not reranked. Exact choice against the
 * PyTorch reference: golden-training.test.ts (bundled model). With generation.image_candidate_round_trip,
 * every distinct candidate is decoded and encoded back, and the result is the chosen candidate's image; with
 * generation.edit_image_candidate_round_trip, only planned Edits are round-tripped.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SamplingParams } from '../../../inference/runtime/api.js';
import { type DdtRuntime, loadModelPackage } from '../../../inference/runtime/index.js';
import { seedForCandidate } from '../../../inference/runtime/rng.js';
import { ctx, maxPixelDiff, params, patternImage } from './helpers.js';

const source = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));
const CANDIDATES = 5;
const TEMPERATURE = 1.3;
let temp: string;
let roundTripDir: string;
let reranking: DdtRuntime;
let roundTrip: DdtRuntime;
let plain: DdtRuntime;
let editRoundTrip: DdtRuntime;
let editPlanned: DdtRuntime;
let editPlannedDir: string;
let editRoundTripDir: string;
const EDIT_PLAN = '{instruction} now what is in the image';

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'ddt-rerank-'));
  await cp(source, temp, { recursive: true });
  const manifest = JSON.parse(await readFile(join(temp, 'manifest.json'), 'utf8'));
  manifest.generation.image_candidates = CANDIDATES;
  manifest.generation.image_candidate_temperature = TEMPERATURE;
  manifest.generation.image_candidate_forward_weight = 0.5;
  manifest.prompting.prompt_instruction = 'describe the image';
  await writeFile(join(temp, 'manifest.json'), JSON.stringify(manifest));
  roundTripDir = await mkdtemp(join(tmpdir(), 'ddt-rerank-round-trip-'));
  await cp(temp, roundTripDir, { recursive: true });
  manifest.generation.image_candidate_round_trip = true;
  await writeFile(join(roundTripDir, 'manifest.json'), JSON.stringify(manifest));
  // planned Edits, with and without a round trip of their own (text-to-image keeps none)
  manifest.generation.image_candidate_round_trip = false;
  manifest.prompting.max_prompt_tokens = 16; // room for the edit plan question
  manifest.prompting.edit_plan_template = EDIT_PLAN;
  editPlannedDir = await copyWith(temp, manifest);
  manifest.generation.edit_image_candidate_round_trip = true;
  editRoundTripDir = await copyWith(temp, manifest);
  const opts = { executionProvider: 'cpu' as const, maxBatch: 4 };
  [reranking, roundTrip, plain, editPlanned, editRoundTrip] = await Promise.all([
    loadModelPackage(temp, opts),
    loadModelPackage(roundTripDir, opts),
    loadModelPackage(source, opts),
    loadModelPackage(editPlannedDir, opts),
    loadModelPackage(editRoundTripDir, opts),
  ]);
});
afterAll(async () => {
  await Promise.all([reranking, roundTrip, plain, editPlanned, editRoundTrip].map((rt) => rt?.close()));
  await Promise.all(
    [temp, roundTripDir, editPlannedDir, editRoundTripDir].map((d) =>
      rm(d, { recursive: true, force: true }),
    ),
  );
});

/** A copy of the package at `from` with this manifest. */
async function copyWith(from: string, manifest: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ddt-rerank-edit-'));
  await cp(from, dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

/**
 * What a reranked one-image request chooses from: the tokens of a plain request with its seed, then those of
 * a plain request per candidate (the candidate's seed, at the candidate temperature).
 */
async function candidatePool(prompt: string, p: SamplingParams): Promise<number[][]> {
  const seeds = [p.seed, ...Array.from({ length: CANDIDATES }, (_, j) => seedForCandidate(p.seed, j + 1))];
  const runs = await Promise.all(
    seeds.map((seed, j) =>
      plain.generate(prompt, 1, { ...p, seed, temperature: j === 0 ? p.temperature : TEMPERATURE }, ctx()),
    ),
  );
  return runs.map(([g]) => g!.tokens);
}

describe('images by self-reranking (tiny random package)', () => {
  it('picks each image among its own tokens and its candidates, scoring them in one pass', async () => {
    let changed = 0;
    for (const seed of [3n, 11n, 29n, 47n]) {
      const p = params({ seed, temperature: 0 });
      const scoresBefore = reranking.counters.llmScoreCalls;
      const [got] = await reranking.generate('a red circle', 1, p, ctx());
      expect(reranking.counters.llmScoreCalls - scoresBefore).toBe(1);
      const pool = await candidatePool('a red circle', p);
      const own = pool[0]!;
      expect(pool).toContainEqual(got!.tokens);
      expect(got!.seed).toBe(seed); // the image keeps its seed (its decoder noise)
      if (got!.tokens.join() !== own.join()) changed++;
    }
    // random weights: some candidate beats the greedy tokens somewhere, or reranking did nothing
    expect(changed).toBeGreaterThan(0);
  });

  it('is deterministic, and the images of one request are not the same candidate twice', async () => {
    const p = params({ seed: 5n, temperature: 0 });
    const a = await reranking.generate('two blue squares', 3, p, ctx());
    const b = await reranking.generate('two blue squares', 3, p, ctx());
    expect(a.map((g) => g.tokens)).toEqual(b.map((g) => g.tokens));
    expect(Buffer.from(a[0]!.image.data)).toEqual(Buffer.from(b[0]!.image.data));
    expect(new Set(a.map((g) => g.tokens.join(','))).size).toBe(3);
    // the first image is what a one-image request with that seed gets
    const [first] = await reranking.generate('two blue squares', 1, p, ctx());
    expect(first!.tokens).toEqual(a[0]!.tokens);
  });

  it('with a round trip, decodes and encodes back every distinct candidate and returns the chosen one', async () => {
    const p = params({ seed: 13n, temperature: 0, steps: 2 });
    const before = { ...roundTrip.counters };
    const [got] = await roundTrip.generate('a red circle', 1, p, ctx());
    const pool = await candidatePool('a red circle', p);
    const distinct = new Set(pool.map((t) => t.join(','))).size;
    expect(pool).toContainEqual(got!.tokens);
    const after = roundTrip.counters;
    // one decode of all candidates (2 steps), their encodes, one scoring pass; no second decode
    expect(after.denoiseRows - before.denoiseRows).toBe(2 * distinct);
    expect(after.encodeCalls).toBeGreaterThan(before.encodeCalls);
    expect(after.llmScoreCalls - before.llmScoreCalls).toBe(1);
    // the image is the chosen candidate decoded from the image's own noise
    const decoded = await roundTrip.decode(got!.tokens, got!.tokens.length, p, ctx());
    const diff = maxPixelDiff(got!.image, decoded);
    expect(diff).toBeLessThanOrEqual(1);
  });

  it('leaves edits alone', async () => {
    const p = params({ seed: 9n });
    const before = reranking.counters.llmScoreCalls;
    const [got] = await reranking.edit(patternImage(8, 2), 'make it blue', 1, p, ctx());
    const [want] = await plain.edit(patternImage(8, 2), 'make it blue', 1, p, ctx());
    expect(got!.tokens).toEqual(want!.tokens);
    expect(reranking.counters.llmScoreCalls).toBe(before);
  });

  it('with edit_image_candidate_round_trip, round-trips the candidates of planned edits and nothing else', async () => {
    const image = patternImage(8, 3);
    const instruction = 'make the red circle blue';
    const p = params({ seed: 21n, steps: 2 });
    // what a call returns, and the encoder calls and denoiser rows it cost
    const counted = async <T>(rt: DdtRuntime, run: () => Promise<T>) => {
      const before = { ...rt.counters };
      const result = await run();
      const cost = {
        encodes: rt.counters.encodeCalls - before.encodeCalls,
        rows: rt.counters.denoiseRows - before.denoiseRows,
      };
      return { result, cost };
    };
    const withTrip = await counted(editRoundTrip, () => editRoundTrip.edit(image, instruction, 1, p, ctx()));
    const edited = withTrip.result[0]!;
    expect(edited.plan).toBeDefined(); // this random model writes a plan here: else nothing is drawn from one
    const without = await counted(editPlanned, () => editPlanned.edit(image, instruction, 1, p, ctx()));
    // the source image's encode, then (with the round trip) every candidate's decode and encode
    expect(without.cost).toEqual({ encodes: 1, rows: 2 });
    expect(withTrip.cost.encodes).toBeGreaterThan(1);
    expect(withTrip.cost.rows).toBeGreaterThan(2);
    const decoded = await editRoundTrip.decode(edited.tokens, edited.tokens.length, p, ctx());
    const diff = maxPixelDiff(edited.image, decoded);
    expect(diff).toBeLessThanOrEqual(1);
    // text-to-image is reranked as before, without a round trip
    const drawn = await counted(editRoundTrip, () => editRoundTrip.generate('a red circle', 1, p, ctx()));
    const [b] = await reranking.generate('a red circle', 1, p, ctx());
    expect(drawn.result[0]!.tokens).toEqual(b!.tokens);
    expect(drawn.cost).toEqual({ encodes: 0, rows: 2 });
  });
});
