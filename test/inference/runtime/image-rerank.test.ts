/**
 * Images by self-reranking (image-rerank.ts) on the tiny random package with generation.image_candidates
 * set: the result is one of the image's candidates, each candidate is the stream a plain request with the
 * candidate's seed and temperature would sample, and edits are not reranked. Exact choice against the
 * PyTorch reference: golden-training.test.ts (bundled model).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DdtRuntime, loadModelPackage } from '../../../inference/runtime/index.js';
import { seedForCandidate } from '../../../inference/runtime/rng.js';
import { ctx, params, patternImage } from './helpers.js';

const source = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));
const CANDIDATES = 5;
const TEMPERATURE = 1.3;
let temp: string;
let reranking: DdtRuntime;
let plain: DdtRuntime;

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'ddt-rerank-'));
  await cp(source, temp, { recursive: true });
  const manifest = JSON.parse(await readFile(join(temp, 'manifest.json'), 'utf8'));
  manifest.generation.image_candidates = CANDIDATES;
  manifest.generation.image_candidate_temperature = TEMPERATURE;
  manifest.generation.image_candidate_forward_weight = 0.5;
  manifest.prompting.prompt_instruction = 'describe the image';
  await writeFile(join(temp, 'manifest.json'), JSON.stringify(manifest));
  const opts = { executionProvider: 'cpu' as const, maxBatch: 4 };
  [reranking, plain] = await Promise.all([loadModelPackage(temp, opts), loadModelPackage(source, opts)]);
});
afterAll(async () => {
  await Promise.all([reranking?.close(), plain?.close()]);
  await rm(temp, { recursive: true, force: true });
});

describe('images by self-reranking (tiny random package)', () => {
  it('picks each image among its own tokens and its candidates, scoring them in one pass', async () => {
    let changed = 0;
    for (const seed of [3n, 11n, 29n, 47n]) {
      const p = params({ seed, temperature: 0 });
      const scoresBefore = reranking.counters.llmScoreCalls;
      const [got] = await reranking.generate('a red circle', 1, p, ctx());
      expect(reranking.counters.llmScoreCalls - scoresBefore).toBe(1);
      const [own] = await plain.generate('a red circle', 1, p, ctx());
      const candidates = await Promise.all(
        Array.from({ length: CANDIDATES }, (_, j) =>
          plain.generate(
            'a red circle',
            1,
            params({ seed: seedForCandidate(seed, j + 1), temperature: TEMPERATURE }),
            ctx(),
          ),
        ),
      );
      const pool = [own!.tokens, ...candidates.map(([c]) => c!.tokens)];
      expect(pool).toContainEqual(got!.tokens);
      expect(got!.seed).toBe(seed); // the image keeps its seed (its decoder noise)
      if (got!.tokens.join() !== own!.tokens.join()) changed++;
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

  it('leaves edits alone', async () => {
    const p = params({ seed: 9n });
    const before = reranking.counters.llmScoreCalls;
    const [got] = await reranking.edit(patternImage(8, 2), 'make it blue', 1, p, ctx());
    const [want] = await plain.edit(patternImage(8, 2), 'make it blue', 1, p, ctx());
    expect(got!.tokens).toEqual(want!.tokens);
    expect(reranking.counters.llmScoreCalls).toBe(before);
  });
});
