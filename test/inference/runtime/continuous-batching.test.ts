/**
 * Continuous batching on real ONNX Runtime sessions: a request that arrives while the only LLM batch slot
 * is busy joins the running batch at its next step, and gets what it would get alone. Run on the tiny
 * package (KV cache in the Hugging Face "append" convention) and on the bundled model ("buffer"
 * convention, inference/runtime/kv-cache.ts): joins, rows leaving and steps go through both caches.
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../inference/runtime/api.js';
import { type DdtRuntime, loadModelPackage, readManifest } from '../../../inference/runtime/index.js';
import { ctx, maxPixelDiff, patternImage } from './helpers.js';

const PACKAGES = [
  fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url)),
  fileURLToPath(new URL('../../../models/shapes-ddt-small', import.meta.url)),
];
let rt: DdtRuntime;
/** The package's defaults: the bundled model's (no guidance, 15 image candidates) make 16 rows a Generate. */
const defaults = (seed: bigint) => ({ ...rt.description.defaults, seed });

/** Starts `late` when the first request has emitted two image tokens (its LLM batch is mid-way). */
async function whileRunning<T>(late: () => Promise<T>): Promise<T> {
  let started: Promise<T> | undefined;
  const onProgress = (e: ProgressEvent) => {
    if (e.stage === 'tokens' && e.step === 2) started = late();
  };
  await rt.generate('a red circle', 1, defaults(11n), ctx({ onProgress }));
  if (!started) throw new Error('the first request never reported token 2');
  return started;
}

describe.each(
  await Promise.all(
    PACKAGES.map(async (dir) => {
      const manifest = await readManifest(dir);
      return {
        dir,
        name: basename(dir),
        kv: manifest.graphs.llm.kv_cache,
        // a planned Generate runs two LLM streams (its plan, then its image tokens), and each may join
        streams: manifest.prompting.plan_template === undefined ? 1 : 2,
      };
    }),
  ),
)('continuous batching ($name, $kv KV cache)', ({ dir, streams }) => {
  beforeAll(async () => {
    // one worker = one LLM batch slot, so a second request finds it busy; LLM batches of up to 32 rows, so
    // that a reranking request (16 rows with the bundled model's 15 candidates) leaves room to join
    rt = await loadModelPackage(dir, { executionProvider: 'cpu', workers: 1, maxBatch: 8 });
  });
  afterAll(async () => {
    await rt?.close();
  });

  it('lets a generate join a running batch and gives the same image as alone', async () => {
    const alone = await rt.generate('two blue square', 1, defaults(2n), ctx());
    const joinsBefore = rt.counters.llmJoins;
    const joined = await whileRunning(() => rt.generate('two blue square', 1, defaults(2n), ctx()));
    // the first stream joins for sure; a plan's image stream joins only if the batch still runs by then
    expect(rt.counters.llmJoins - joinsBefore).toBeGreaterThanOrEqual(1);
    expect(rt.counters.llmJoins - joinsBefore).toBeLessThanOrEqual(streams);
    expect(joined[0]!.tokens).toEqual(alone[0]!.tokens);
    const diff = maxPixelDiff(alone[0]!.image, joined[0]!.image);
    expect(diff).toBeLessThanOrEqual(1);
  });

  it('lets a caption join a running image batch and gives the same text as alone', async () => {
    const img = patternImage(rt.description.imageSize, 5);
    const alone = await rt.caption(img, ctx());
    const joinsBefore = rt.counters.llmJoins;
    const joined = await whileRunning(() => rt.caption(img, ctx()));
    expect(rt.counters.llmJoins - joinsBefore).toBe(1);
    expect(joined).toBe(alone);
  });
});
