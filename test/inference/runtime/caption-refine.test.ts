/**
 * Caption refinement (caption-refine.ts): phrase spans and swaps on token ids (the same cases as
 * training/tests/test_phrases.py), the refinement loop over a scripted scorer, and packages whose phrases the
 * tokenizer cannot spell. The exact choice against the PyTorch reference on the bundled model:
 * golden-training.test.ts.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captionScores,
  phraseSpans,
  phraseVariants,
  refineCaption,
} from '../../../inference/runtime/caption-refine.js';
import { loadModelPackage } from '../../../inference/runtime/index.js';
import { JobControl } from '../../../inference/runtime/job-control.js';
import type { ModelParts } from '../../../inference/runtime/model-parts.js';
import { ctx, patternImage } from './helpers.js';

describe('phrase spans and variants', () => {
  it('takes the longest phrase at each position, without overlap', () => {
    const classes = [
      [
        [1, 2],
        [3, 2],
      ],
      [[2], [4]],
      [[5]],
    ];
    expect(phraseSpans([1, 2, 9, 2, 5, 3, 2], classes)).toEqual([
      { start: 0, length: 2, cls: 0 },
      { start: 3, length: 1, cls: 1 },
      { start: 4, length: 1, cls: 2 },
      { start: 5, length: 2, cls: 0 },
    ]);
    expect(phraseSpans([9, 9], classes)).toEqual([]);
  });

  it('swaps one phrase for each other of its class, span by span', () => {
    const classes = [
      [[1, 2], [3]],
      [[4], [5], [6]],
    ];
    expect(phraseVariants([1, 2, 0, 4], classes)).toEqual([
      [3, 0, 4],
      [1, 2, 0, 5],
      [1, 2, 0, 6],
    ]);
    expect(phraseVariants([0, 0], classes)).toEqual([]);
  });
});

// A scripted scorer: a caption scores minus its distance (ids that differ) from TARGET, in both directions.
const BOS = 1;
const USER = 6;
const ASSISTANT = 7;
const END = 2;
const TARGET = [10, 20, 30, 40];
const ROW = [BOS, USER, 99, ASSISTANT];
const distance = (ids: number[]) =>
  ids.reduce((n, id, i) => n + (id === TARGET[i] ? 0 : 1), 0) + Math.abs(ids.length - TARGET.length);

function scriptedParts(weight: number, rounds: number, calls: number[][][]): ModelParts {
  const parts = {
    manifest: {
      generation: { caption_likelihood_weight: weight, caption_refine: { rounds, phrases: [] } },
      tokens: { codebook_size: 8 },
      vocab: { text_size: 100 },
    },
    vocab: { special: { bos: BOS, user: USER, assistant: ASSISTANT, boi: 4, end: END }, visualOffset: 100 },
    captionPhrases: [
      [[10], [11], [12]],
      [[30], [31]],
    ],
    model: {
      score: async (rows: number[][], _scored: number, from: number, _to: number, prefix: number[] = []) => {
        const whole = rows.map((r) => [...prefix, ...r]); // as the model reads them
        calls.push(whole);
        return whole.map((r) => {
          const ids = from === 100 ? r.slice(2, r.indexOf(ASSISTANT)) : r.slice(ROW.length, -1);
          return 0 - distance(ids) * (from === 100 ? 1 : 3);
        });
      },
    },
  };
  return parts as unknown as ModelParts; // only what the scoring and refinement read
}

describe('refineCaption (scripted scorer)', () => {
  it('adds the weighted caption direction to the image direction', async () => {
    const calls: number[][][] = [];
    const parts = scriptedParts(0.5, 4, calls);
    expect(await captionScores(parts, ROW, [1, 2], [TARGET, [11, 20, 31, 40]])).toEqual([0, -2 - 0.5 * 6]);
    expect(calls.map((rows) => rows.length)).toEqual([2, 1, 1]); // forward rows together, then one per caption
    expect(calls[1]![0]).toEqual([...ROW, ...TARGET, END]);
    const alone = scriptedParts(0, 4, []);
    expect(await captionScores(alone, ROW, [1, 2], [[11, 20, 31, 40]])).toEqual([-2]);
  });

  it('fixes one phrase a round while the score rises, and stops when none helps', async () => {
    const job = new JobControl(ctx());
    const start = [11, 20, 31, 40];
    const score = -2;
    expect(await refineCaption(scriptedParts(0, 4, []), ROW, [1], start, score, job)).toEqual(TARGET);
    // one round: the first of the equally good swaps (span order, then class order)
    expect(await refineCaption(scriptedParts(0, 1, []), ROW, [1], start, score, job)).toEqual([
      10, 20, 31, 40,
    ]);
    const calls: number[][][] = [];
    expect(await refineCaption(scriptedParts(0, 4, calls), ROW, [1], TARGET, 0, job)).toEqual(TARGET);
    expect(calls.length).toBe(1); // one round scored, nothing better: stop
  });
});

describe('caption_refine in a package (tiny random package)', () => {
  const source = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));
  const PHRASES = [
    ['a red', 'a blue'],
    ['red', 'blue', 'green'],
    ['circle', 'square', 'triangle'],
  ];
  let temp: string;
  beforeAll(async () => {
    temp = await mkdtemp(join(tmpdir(), 'ddt-refine-'));
  });
  afterAll(async () => {
    await rm(temp, { recursive: true, force: true });
  });

  const withRefine = async (name: string, refine: { rounds: number; phrases: string[][] } | null) => {
    const dir = join(temp, name);
    await cp(source, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(join(source, 'manifest.json'), 'utf8'));
    manifest.generation.caption_candidates = 7;
    manifest.generation.caption_likelihood_weight = 0.5;
    manifest.generation.caption_refine = refine;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    return loadModelPackage(dir, { executionProvider: 'cpu', maxBatch: 4 });
  };

  it('changes the reranked caption only by swapping phrases within their classes', async () => {
    const [plain, refining] = await Promise.all([
      withRefine('plain', null),
      withRefine('refining', { rounds: 3, phrases: PHRASES }),
    ]);
    try {
      const classOf = new Map(PHRASES.flatMap((c, i) => c.flatMap((p) => p.split(' ').map((w) => [w, i]))));
      for (const salt of [1, 2, 3, 4]) {
        const image = patternImage(8, salt);
        const [before, after] = await Promise.all([
          plain.caption(image, ctx()),
          refining.caption(image, ctx()),
        ]);
        const a = before.split(' ');
        const b = after.split(' ');
        expect(b.length).toBe(a.length); // these classes' phrases all have the same length
        b.forEach((w, i) => {
          if (w !== a[i]) expect(classOf.get(w)).toBe(classOf.get(a[i]!));
        });
      }
    } finally {
      await Promise.all([plain.close(), refining.close()]);
    }
  });

  it('refuses a phrase the tokenizer cannot spell', async () => {
    await expect(withRefine('bad', { rounds: 1, phrases: [['circle', 'hexagon']] })).rejects.toThrow(
      /caption_refine: the tokenizer cannot spell the phrase "hexagon"/,
    );
  });
});
