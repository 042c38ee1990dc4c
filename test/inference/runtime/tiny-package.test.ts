/**
 * Real ONNX Runtime sessions in worker threads on the tiny random package (fixtures/tiny-package,
 * written by make_tiny_package.py): every ModelRuntime method, batching, cancellation, determinism.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DdtRuntime,
  loadModelPackage,
  type ProgressEvent,
  RuntimeError,
} from '../../../inference/runtime/index.js';
import { ctx, maxPixelDiff, params, patternImage, solidImage } from './helpers.js';

const dir = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));
let rt: DdtRuntime;

beforeAll(async () => {
  rt = await loadModelPackage(dir, { executionProvider: 'cpu', maxQueue: 4, maxBatch: 4 });
});
afterAll(async () => {
  await rt?.close();
});

describe('tiny package through real workers', () => {
  it('describes the model from its manifest', () => {
    expect(rt.description).toMatchObject({
      name: 'tiny-test',
      imageSize: 8,
      tokensPerImage: 8,
      codebookSize: 16,
    });
    expect(rt.description.defaults).toEqual({ guidanceScale: 3, temperature: 1, topK: 0, topP: 1, steps: 3 });
  });

  it('encodes an image to K codes in range, deterministically', async () => {
    const a = await rt.encode(patternImage(8, 1), ctx());
    expect(a).toHaveLength(8);
    for (const c of a) expect(c).toBeGreaterThanOrEqual(0);
    for (const c of a) expect(c).toBeLessThan(16);
    expect(await rt.encode(patternImage(8, 1), ctx())).toEqual(a);
  });

  it('generates images: same seed -> identical output, other seed differs', async () => {
    const p = params({ seed: 123n });
    const [a, b] = await Promise.all([
      rt.generate('a red circle', 2, p, ctx()),
      rt.generate('a red circle', 2, p, ctx()),
    ]);
    expect(a).toHaveLength(2);
    expect(a![0]!.seed).toBe(123n);
    expect(a![1]!.seed).toBe(124n);
    expect(a![0]!.tokens).toHaveLength(8);
    expect(Buffer.from(a![0]!.image.data)).toEqual(Buffer.from(b![0]!.image.data));
    expect(a!.map((g) => g.tokens)).toEqual(b!.map((g) => g.tokens));
    // image i of a request equals image 0 of a request seeded with seed + i
    const [single] = await rt.generate('a red circle', 1, params({ seed: 124n }), ctx());
    expect(single!.tokens).toEqual(a![1]!.tokens);
    expect(Buffer.from(single!.image.data)).toEqual(Buffer.from(a![1]!.image.data));
  });

  it('batches concurrent generate requests into shared LLM and denoiser calls', async () => {
    const before = { ...rt.counters };
    await Promise.all([
      rt.generate('a red circle', 1, params({ seed: 1n }), ctx()),
      rt.generate('two blue square', 1, params({ seed: 2n }), ctx()),
      rt.generate('green', 1, params({ seed: 3n }), ctx()),
    ]);
    const llmCalls = rt.counters.llmCalls - before.llmCalls;
    const denoiseCalls = rt.counters.denoiseCalls - before.denoiseCalls;
    // 3 requests x (prefill + 7 steps for K = 8 tokens) would be 24 calls unbatched; 3 x 3 decoder steps = 9.
    expect(llmCalls).toBe(8);
    expect(rt.counters.llmRows - before.llmRows).toBe(8 * 6);
    expect(denoiseCalls).toBe(3);
  });

  it('gives the same images batched as alone', async () => {
    const alone = await rt.generate('two blue square', 1, params({ seed: 2n }), ctx());
    const [, batched] = await Promise.all([
      rt.generate('a red circle on the left', 1, params({ seed: 1n }), ctx()),
      rt.generate('two blue square', 1, params({ seed: 2n }), ctx()),
    ]);
    expect(batched![0]!.tokens).toEqual(alone[0]!.tokens);
    const diff = maxPixelDiff(alone[0]!.image, batched![0]!.image);
    expect(diff).toBeLessThanOrEqual(1);
  });

  it('gives each request of a burst with repeated prompts the image it gets alone', async () => {
    // the same prompt twice and every unconditional row: identical LLM rows, prefilled once (row-dedup.ts)
    const requests = [
      ['a red circle', 5n],
      ['two blue square', 6n],
      ['a red circle', 7n],
    ] as const;
    const alone: Awaited<ReturnType<DdtRuntime['generate']>>[] = [];
    for (const [prompt, seed] of requests) alone.push(await rt.generate(prompt, 1, params({ seed }), ctx()));
    const before = rt.counters.llmCalls;
    const burst = await Promise.all(
      requests.map(([prompt, seed]) => rt.generate(prompt, 1, params({ seed }), ctx())),
    );
    expect(rt.counters.llmCalls - before).toBe(8); // one batch: prefill + 7 steps
    burst.forEach((images, i) => {
      expect(images[0]!.tokens).toEqual(alone[i]![0]!.tokens);
      const diff = maxPixelDiff(alone[i]![0]!.image, images[0]!.image);
      expect(diff).toBeLessThanOrEqual(1);
    });
    expect(burst[0]![0]!.tokens).not.toEqual(burst[2]![0]!.tokens); // same prompt, other seed: rows diverge
  });

  it('reports progress through tokens then decode, ending at 1', async () => {
    const events: { stage: string; step: number; fraction: number }[] = [];
    await rt.generate('a red circle', 1, params(), ctx({ onProgress: (e) => events.push(e) }));
    expect(events.filter((e) => e.stage === 'tokens').map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.filter((e) => e.stage === 'decode').map((e) => e.step)).toEqual([1, 2, 3]);
    expect(events.at(-1)!.fraction).toBe(1);
    const fractions = events.map((e) => e.fraction);
    expect([...fractions].sort((x, y) => x - y)).toEqual(fractions);
  });

  it('sends a preview image with progress when asked', async () => {
    const previews: { step: number; size: number }[] = [];
    const onProgress = (e: ProgressEvent) =>
      e.preview && previews.push({ step: e.step, size: e.preview.data.length });
    await rt.generate('a red circle', 1, params(), ctx({ previews: true, onProgress }));
    expect(previews).toEqual([{ step: 4, size: 8 * 8 * 3 }]); // every 4 tokens, none for the last (K = 8)
    const none: number[] = [];
    await rt.generate(
      'a red circle',
      1,
      params(),
      ctx({ onProgress: (e) => e.preview && none.push(e.step) }),
    );
    expect(none).toEqual([]);
  });

  it('edits, captions, asks and chats', async () => {
    const img = patternImage(8, 3);
    const edited = await rt.edit(img, 'make it blue', 1, params(), ctx());
    expect(edited[0]!.image.data).toHaveLength(8 * 8 * 3);
    const deltas: string[] = [];
    const caption = await rt.caption(img, ctx({ onTextDelta: (d) => deltas.push(d) }));
    expect(deltas.join('')).toBe(caption);
    expect(await rt.caption(img, ctx())).toBe(caption);
    expect(typeof (await rt.ask(img, 'what colour is the circle ?', ctx())).text).toBe('string');
    const answer = await rt.chat(
      [
        {
          role: 'user',
          parts: [
            { kind: 'image', image: img },
            { kind: 'text', text: 'what is it' },
          ],
        },
      ],
      params(),
      ctx(),
    );
    expect(['end', 'length', 'image']).toContain(answer.finishReason);
    if (answer.finishReason === 'image') expect(answer.image!.tokens).toHaveLength(8);
    else expect(answer.image).toBeUndefined();
  });

  it('decodes, reveals (one frame per keep) and blends', async () => {
    const tokens = await rt.encode(patternImage(8, 5), ctx());
    const full = await rt.decode(tokens, 8, params(), ctx());
    const frames = await rt.reveal(tokens, params(), ctx());
    expect(frames).toHaveLength(8);
    expect(Buffer.from(frames[7]!.data)).toEqual(Buffer.from(full.data));
    expect(Buffer.from(frames[0]!.data)).not.toEqual(Buffer.from(full.data));
    const some = await rt.reveal(tokens, params(), ctx(), [2, 8]);
    expect(Buffer.from(some[0]!.data)).toEqual(Buffer.from(frames[1]!.data));
    const other = patternImage(8, 9);
    const blended = await rt.blend(patternImage(8, 5), other, { from: 2, to: 8 }, params(), ctx());
    const otherTokens = await rt.encode(other, ctx());
    expect(blended.tokens).toEqual([...tokens.slice(0, 2), ...otherTokens.slice(2)]);
  });

  it('rejects invalid arguments with invalid_argument', async () => {
    const kind = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: RuntimeError) => e.kind,
      );
    expect(await kind(rt.generate('   ', 1, params(), ctx()))).toBe('invalid_argument');
    expect(await kind(rt.generate('a a a a a a a a a', 1, params(), ctx()))).toBe('invalid_argument');
    expect(await kind(rt.generate('red', 1, params({ steps: 99 }), ctx()))).toBe('invalid_argument');
    expect(await kind(rt.decode([1, 2, 3], 3, params(), ctx()))).toBe('invalid_argument');
    expect(await kind(rt.decode([1, 2, 3, 4, 5, 6, 7, 99], 8, params(), ctx()))).toBe('invalid_argument');
    expect(await kind(rt.decode([1, 2, 3, 4, 5, 6, 7, 8], 9, params(), ctx()))).toBe('invalid_argument');
    expect(await kind(rt.encode(solidImage(9, [1, 2, 3]), ctx()))).toBe('invalid_argument');
    expect(
      await kind(
        rt.blend(solidImage(8, [0, 0, 0]), solidImage(8, [0, 0, 0]), { from: 3, to: 1 }, params(), ctx()),
      ),
    ).toBe('invalid_argument');
  });

  it('cancels a running generate within one model step', async () => {
    const controller = new AbortController();
    let llmCallsAtAbort = -1;
    const before = { ...rt.counters };
    const job = rt.generate('a red circle', 1, params({ steps: 8 }), {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.stage === 'tokens' && e.step === 2) {
          llmCallsAtAbort = rt.counters.llmCalls;
          controller.abort();
        }
      },
    });
    const err = await job.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).kind).toBe('cancelled');
    await waitFor(() => rt.stats().running === 0);
    // the abort came while choosing token 2 (after prefill + 1 step): no further LLM step, no decoding
    expect(llmCallsAtAbort - before.llmCalls).toBe(2);
    expect(rt.counters.llmCalls).toBe(llmCallsAtAbort);
    expect(rt.counters.denoiseCalls).toBe(before.denoiseCalls);
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}
