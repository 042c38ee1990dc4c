/**
 * The bundled package (models/shapes-ddt-small, written by training/export.py) loaded for real:
 * every ModelRuntime method, cancellation within one step, determinism. Skipped while the package
 * has not been exported yet.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatTurn } from '../../../inference/runtime/api.js';
import { type DdtRuntime, loadModels, RuntimeError } from '../../../inference/runtime/index.js';
import { ctx, solidImage } from './helpers.js';

const modelsDir = fileURLToPath(new URL('../../../models', import.meta.url));
const present = existsSync(`${modelsDir}/shapes-ddt-small/manifest.json`);
let rt: DdtRuntime;

describe.skipIf(!present)('shapes-ddt-small through real workers', () => {
  beforeAll(async () => {
    const models = await loadModels(modelsDir, {
      executionProvider: 'cpu',
      only: ['shapes-ddt-small'],
      maxQueue: 8,
    });
    rt = models.get('shapes-ddt-small') as DdtRuntime;
  });
  afterAll(async () => {
    await rt?.close();
  });
  // Sampled (temperature 1), so that a different seed must give different tokens; the bundled model's
  // default is greedy.
  const params = (seed = 11n) => ({ ...rt.description.defaults, temperature: 1, seed });

  it('generates deterministic images per seed', async () => {
    const K = rt.description.tokensPerImage;
    const size = rt.description.imageSize;
    const [a, b] = await Promise.all([
      rt.generate('a red circle', 2, params(), ctx()),
      rt.generate('a red circle', 2, params(), ctx()),
    ]);
    expect(a!.map((g) => g.tokens.length)).toEqual([K, K]);
    expect(a![0]!.image.data).toHaveLength(size * size * 3);
    expect(a!.map((g) => g.tokens)).toEqual(b!.map((g) => g.tokens));
    expect(Buffer.from(a![1]!.image.data)).toEqual(Buffer.from(b![1]!.image.data));
    // seeds 99..102: a confident model may repeat itself for one prompt and two seeds, never for all four
    const others = await rt.generate('two red circles', 4, params(99n), ctx());
    expect(new Set(others.map((g) => g.tokens.join(','))).size).toBeGreaterThan(1);
  });

  it("samples a Generate's plan at the request's temperature from its seed, greedy at 0", async () => {
    const plans = async (temperature: number) => {
      const seeds = [1n, 2n, 3n, 4n, 5n, 6n];
      const images = await Promise.all(
        seeds.map((seed) =>
          rt.generate('two red circles', 1, { ...rt.description.defaults, temperature, seed }, ctx()),
        ),
      );
      return images.map(([image]) => image!.plan!);
    };
    const greedy = await plans(0);
    expect(new Set(greedy).size).toBe(1); // one layout, whatever the seed
    const sampled = await plans(1);
    expect(new Set(sampled).size).toBeGreaterThan(1); // layouts the prompt leaves open vary with the seed
    expect(await plans(1)).toEqual(sampled); // and are the seed's own
  });

  it('captions, asks, chats and edits a generated image', async () => {
    const [img] = await rt.generate('a blue square', 1, params(3n), ctx());
    const deltas: string[] = [];
    const caption = await rt.caption(img!.image, ctx({ onTextDelta: (d) => deltas.push(d) }));
    expect(caption.length).toBeGreaterThan(0);
    expect(deltas.join('')).toBe(caption);
    const answer = await rt.ask(img!.image, 'what colour is the square ?', ctx());
    expect(answer.text.length).toBeGreaterThan(0);
    const chat = await rt.chat(
      [
        {
          role: 'user',
          parts: [
            { kind: 'image', image: img!.image },
            { kind: 'text', text: 'describe the image' },
          ],
        },
      ],
      params(),
      ctx(),
    );
    expect(chat.finishReason).not.toBe('image');
    expect(chat.text.length).toBeGreaterThan(0);
    const edited = await rt.edit(img!.image, 'make the square red', 1, params(), ctx());
    expect(edited[0]!.tokens).toHaveLength(rt.description.tokensPerImage);
  });

  it("plans a chat's image answer as Generate or Edit of the last turn's text would draw it", async () => {
    const p = { ...rt.description.defaults, seed: 21n };
    const say = (text: string) => ({ role: 'user' as const, parts: [{ kind: 'text' as const, text }] });
    const drawn = await rt.chat([say('draw two red circles')], p, ctx());
    expect(drawn.finishReason).toBe('image');
    const [generated] = await rt.generate('draw two red circles', 1, p, ctx());
    expect(drawn.image!.plan).toBeDefined();
    expect(drawn.image!.plan).toBe(generated!.plan);
    expect(drawn.image!.tokens).toEqual(generated!.tokens);
    expect(Buffer.from(drawn.image!.image.data)).toEqual(Buffer.from(generated!.image.data));
    // an image in the conversation: the newest one is edited by the last turn's text
    const image = generated!.image;
    const described = await rt.caption(image, ctx());
    const edit = 'make the red circles blue';
    const turns: ChatTurn[] = [
      {
        role: 'user',
        parts: [
          { kind: 'image', image },
          { kind: 'text', text: 'describe the image' },
        ],
      },
      { role: 'assistant', parts: [{ kind: 'text', text: described }] },
      say(edit),
    ];
    const edited = await rt.chat(turns, p, ctx());
    expect(edited.finishReason).toBe('image');
    const [byEdit] = await rt.edit(image, edit, 1, p, ctx());
    expect(edited.image!.plan).toBe(byEdit!.plan);
    expect(edited.image!.tokens).toEqual(byEdit!.tokens);
  });

  it('encodes, decodes, reveals and blends', async () => {
    const K = rt.description.tokensPerImage;
    const [img] = await rt.generate('a green triangle', 1, params(5n), ctx());
    const codes = await rt.encode(img!.image, ctx());
    expect(codes).toHaveLength(K);
    const decoded = await rt.decode(codes, K, params(), ctx());
    const frames = await rt.reveal(codes, params(), ctx(), [1, Math.ceil(K / 2), K]);
    expect(Buffer.from(frames[2]!.data)).toEqual(Buffer.from(decoded.data));
    const blended = await rt.blend(
      img!.image,
      solidImage(rt.description.imageSize, [255, 255, 255]),
      { from: 0, to: K / 2 },
      params(),
      ctx(),
    );
    expect(blended.tokens.slice(K / 2)).toEqual(codes.slice(K / 2));
  });

  it('stops a generate within one model step of cancellation', async () => {
    const controller = new AbortController();
    const before = { ...rt.counters };
    let llmCallsAtAbort = -1;
    let llmCallsAtToken1 = -1; // the bundled model plans first: its plan's LLM calls come before the tokens
    const job = rt.generate('two red circles', 1, params(), {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.stage === 'tokens' && e.step === 1) llmCallsAtToken1 = rt.counters.llmCalls;
        if (e.stage === 'tokens' && e.step === 4) {
          llmCallsAtAbort = rt.counters.llmCalls;
          controller.abort();
        }
      },
    });
    const err = await job.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as RuntimeError).kind).toBe('cancelled');
    for (let i = 0; i < 200 && rt.stats().running > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(llmCallsAtToken1).toBeGreaterThan(before.llmCalls);
    expect(llmCallsAtAbort - llmCallsAtToken1).toBe(3); // 3 more steps gave tokens 2..4
    expect(rt.counters.llmCalls).toBe(llmCallsAtAbort);
    expect(rt.counters.denoiseCalls).toBe(before.denoiseCalls);
  });

  it('rejects over-long prompts', async () => {
    const long = Array.from({ length: rt.description.maxPromptTokens + 1 }, () => 'red').join(' ');
    const err = await rt.generate(long, 1, params(), ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).kind).toBe('invalid_argument');
  });
});
