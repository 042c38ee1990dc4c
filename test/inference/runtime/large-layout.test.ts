/**
 * The large package layout (docs/model-package.md) on test/fixtures/models/tiny-latent: float16 graphs,
 * external weight files, a VAE stage with latent normalisation, and the one-step renderer (steps 0).
 * Parity with an independent Python reference (test/fixtures/models/large_layout_reference.py, onnxruntime
 * Python, one unpadded row at a time) written to test/fixtures/golden/tiny-latent.json.
 *
 * Tolerances: token ids must match exactly (the reference only records decisions whose margin, logit gap or
 * distance of u from a CDF boundary, is >= 0.01, far above float16 noise between ORT builds). Pixels: the
 * runtime rounds every float16 input exactly like numpy (via float32, nearest, ties to even), so only kernel
 * differences between onnxruntime-node and onnxruntime Python remain. Measured: 0 levels (bit-identical) with
 * onnxruntime-node 1.30 vs onnxruntime 1.20 on x86 CPU. PIXEL_TOLERANCE = 2 levels leaves room for another
 * build flipping a float16 rounding (one half ulp near 1 is ~0.06 of a level after *127.5, and the VAE and
 * the sampler's 1/t amplify it), while a real pipeline error (a clamp in latent space, a wrong shift or
 * scale, a wrong rounding) moves pixels by tens of levels.
 */

import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  floatToHalf,
  fromHalfArray,
  halfToFloat,
  toHalfArray,
} from '../../../inference/runtime/half-float.js';
import {
  type DdtRuntime,
  loadModelPackage,
  ModelPackageError,
  type ProgressEvent,
  parseManifest,
  RuntimeError,
} from '../../../inference/runtime/index.js';
import { ctx, params, patternImage } from './helpers.js';

interface Golden {
  min_margin: number;
  fp16: { values: number[]; bits: number[] };
  encode: { salt: number; codes: number[] };
  caption: { salt: number; ids: number[]; text: string };
  generate: {
    prompt: string;
    seed: string;
    guidance: number;
    temperature: number;
    top_k: number;
    top_p: number;
    steps: number;
    tokens: number[];
    pixels: number[];
  }[];
  decode: { codes: number[]; keep: number; seed: string; steps: number; pixels: number[] };
  render: { codes: number[]; keep: number; pixels: number[] }[];
}

const PIXEL_TOLERANCE = 2; // max abs difference in 8-bit levels (measured 0), see the header
const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const source = root('test/fixtures/models/tiny-latent');
const golden = JSON.parse(readFileSync(root('test/fixtures/golden/tiny-latent.json'), 'utf8')) as Golden;
const SIZE = 16;
const K = 8;

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

const temps: string[] = [];
/** Copies tiny-latent into a temp dir and edits its manifest. */
async function variant(
  // biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary manifest fields
  edit: (m: Record<string, any>) => void = () => {},
): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'ddt-latent-')), 'tiny-latent');
  temps.push(dir);
  await cp(source, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  edit(manifest);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

const cpu = { executionProvider: 'cpu' as const };
let rt: DdtRuntime;

beforeAll(async () => {
  rt = await loadModelPackage(source, { ...cpu, maxBatch: 4 });
});
afterAll(async () => {
  await rt?.close();
  await Promise.all(temps.map((d) => rm(join(d, '..'), { recursive: true, force: true })));
});

describe('float16 conversion', () => {
  it('rounds float32 -> half exactly like numpy (nearest, ties to even, overflow, subnormals)', () => {
    const { values, bits } = golden.fp16;
    const got = toHalfArray(Float32Array.from(values));
    const wrong = values.filter((_, i) => got[i] !== bits[i]);
    expect(wrong).toEqual([]);
  });

  it('round-trips every half bit pattern and keeps NaN / infinities', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = halfToFloat(h);
      if (Number.isNaN(v))
        expect(floatToHalf(v)).toBe(0x7e00); // JS has one NaN: payload and sign are lost
      else expect(floatToHalf(v)).toBe(h);
    }
    expect(floatToHalf(Number.POSITIVE_INFINITY)).toBe(0x7c00);
    expect(floatToHalf(Number.NEGATIVE_INFINITY)).toBe(0xfc00);
    expect(floatToHalf(65520)).toBe(0x7c00); // halfway above the largest half (65504) rounds to infinity
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie -> even mantissa
    expect(floatToHalf(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal -> 0
    expect(Array.from(fromHalfArray(Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7bff)))).toEqual([
      1,
      -2,
      2 ** -24,
      65504,
    ]);
  });
});

describe('tiny-latent package (float16, VAE, renderer, external data) through real workers', () => {
  it('describes steps 0 (renderer) as accepted; the multi-step sampler stays the default', () => {
    expect(rt.description).toMatchObject({ name: 'tiny-latent', imageSize: SIZE, minSteps: 0, maxSteps: 8 });
    expect(rt.description.defaults.steps).toBe(3);
  });

  it('encodes (vae_encoder, normalisation, encoder) and captions like the reference', async () => {
    expect(golden.min_margin).toBeGreaterThanOrEqual(0.01);
    const img = patternImage(SIZE, golden.encode.salt);
    expect(await rt.encode(img, ctx())).toEqual(golden.encode.codes);
    expect(await rt.caption(img, ctx())).toBe(golden.caption.text);
  });

  it('generates like the reference: latent sampler and renderer, greedy and sampled, batched together', async () => {
    const sampling = (g: Golden['generate'][number]) => ({
      seed: BigInt(g.seed),
      guidanceScale: g.guidance,
      temperature: g.temperature,
      topK: g.top_k,
      topP: g.top_p,
      steps: g.steps,
    });
    // A 4th request in the same LLM batch is cancelled after 2 tokens: its rows leave the float16 KV cache
    // (selectRows on half bits) while the others continue, which must not change them.
    const abort = new AbortController();
    const onProgress = (e: ProgressEvent) => e.stage === 'tokens' && e.step === 2 && abort.abort();
    const cancelled = rt
      .generate(
        golden.generate[0]!.prompt,
        1,
        sampling(golden.generate[0]!),
        ctx({ signal: abort.signal, onProgress }),
      )
      .catch((e: unknown) => e);
    const results = await Promise.all(
      golden.generate.map((g) => rt.generate(g.prompt, 1, sampling(g), ctx())),
    );
    results.forEach(([img], i) => {
      expect(img!.tokens).toEqual(golden.generate[i]!.tokens);
      expect(maxDiff(img!.image.data, golden.generate[i]!.pixels)).toBeLessThanOrEqual(PIXEL_TOLERANCE);
    });
    expect(((await cancelled) as RuntimeError).kind).toBe('cancelled');
  });

  it('decodes with the sampler in latent space (no clamp) and with the renderer like the reference', async () => {
    const d = golden.decode;
    const sampled = await rt.decode(d.codes, d.keep, params({ seed: BigInt(d.seed), steps: d.steps }), ctx());
    expect(maxDiff(sampled.data, d.pixels)).toBeLessThanOrEqual(PIXEL_TOLERANCE);
    for (const r of golden.render) {
      const before = { ...rt.counters };
      const image = await rt.decode(r.codes, r.keep, params({ seed: 1n, steps: 0 }), ctx());
      expect(maxDiff(image.data, r.pixels)).toBeLessThanOrEqual(PIXEL_TOLERANCE);
      expect(rt.counters.renderCalls - before.renderCalls).toBe(1);
      expect(rt.counters.vaeDecodeCalls - before.vaeDecodeCalls).toBe(1);
      expect(rt.counters.denoiseCalls).toBe(before.denoiseCalls);
      // the renderer uses no noise: another seed gives the same image
      const again = await rt.decode(r.codes, r.keep, params({ seed: 99n, steps: 0 }), ctx());
      expect(Buffer.from(again.data)).toEqual(Buffer.from(image.data));
    }
  });

  it('reveals with the renderer in one batched call, and previews use it during generation', async () => {
    const before = { ...rt.counters };
    const steps: ProgressEvent[] = [];
    const frames = await rt.reveal(
      golden.encode.codes,
      params({ steps: 0 }),
      ctx({ onProgress: (e) => steps.push(e) }),
      [K, 3],
    );
    expect(maxDiff(frames[0]!.data, golden.render[0]!.pixels)).toBeLessThanOrEqual(PIXEL_TOLERANCE);
    expect(maxDiff(frames[1]!.data, golden.render[1]!.pixels)).toBeLessThanOrEqual(PIXEL_TOLERANCE);
    expect(rt.counters.renderCalls - before.renderCalls).toBe(1);
    expect(steps.map((e) => [e.stage, e.step, e.totalSteps, e.fraction])).toEqual([['reveal', 1, 1, 1]]);

    const previews: number[] = [];
    const mid = { ...rt.counters };
    await rt.generate(
      'a red circle',
      1,
      params(),
      ctx({ previews: true, onProgress: (e) => e.preview && previews.push(e.step) }),
    );
    expect(previews).toEqual([4]);
    expect(rt.counters.renderCalls - mid.renderCalls).toBe(1); // the preview; the result used 3 sampler steps
    expect(rt.counters.denoiseCalls - mid.denoiseCalls).toBe(3);
  });

  it('manifest sampler.use_renderer makes steps 0 the default; no renderer means steps 0 is refused', async () => {
    const fast = await loadModelPackage(
      await variant((m) => {
        m.sampler.use_renderer = true;
      }),
      cpu,
    );
    const slow = await loadModelPackage(
      await variant((m) => {
        m.graphs.renderer = null;
      }),
      cpu,
    );
    try {
      expect(fast.description.defaults.steps).toBe(0);
      const r = golden.render[0]!;
      const image = await fast.decode(
        r.codes,
        r.keep,
        params({ steps: fast.description.defaults.steps }),
        ctx(),
      );
      expect(maxDiff(image.data, r.pixels)).toBeLessThanOrEqual(PIXEL_TOLERANCE);

      expect(slow.description.minSteps).toBe(1);
      const err = await slow.decode(r.codes, K, params({ steps: 0 }), ctx()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RuntimeError);
      expect((err as RuntimeError).kind).toBe('invalid_argument');
      expect((err as Error).message).toMatch(/steps must be an integer in \[1, 8\], got 0/);
      const d = golden.decode; // a latent package without a renderer still decodes with the sampler
      const sampled = await slow.decode(
        d.codes,
        d.keep,
        params({ seed: BigInt(d.seed), steps: d.steps }),
        ctx(),
      );
      expect(maxDiff(sampled.data, d.pixels)).toBeLessThanOrEqual(PIXEL_TOLERANCE);
    } finally {
      await Promise.all([fast.close(), slow.close()]);
    }
  });
});

describe('large layout validation', () => {
  it('names a missing external data file', async () => {
    const dir = await variant();
    await rm(join(dir, 'llm.onnx.data'));
    const err = await loadModelPackage(dir, cpu).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelPackageError);
    expect((err as Error).message).toMatch(
      /llm\.onnx\.data: missing external data file \(weights of .*llm\.onnx\)/,
    );
  });

  it('names a truncated external data file', async () => {
    const dir = await variant();
    await truncate(join(dir, 'denoiser.onnx.data'), 100);
    await expect(loadModelPackage(dir, cpu)).rejects.toThrow(
      /denoiser\.onnx\.data: external data file is 100 bytes, .*denoiser\.onnx needs \d+/,
    );
  });

  it('refuses float16 graphs under a float32 manifest, naming graph and input', async () => {
    const dir = await variant((m) => {
      m.dtype = 'float32';
    });
    await expect(loadModelPackage(dir, cpu)).rejects.toThrow(
      /encoder\.onnx: "pixels" is float16, manifest\.json dtype is float32/,
    );
  });

  it('checks latent <-> VAE graphs and use_renderer <-> renderer in the manifest', () => {
    const manifest = JSON.parse(readFileSync(join(source, 'manifest.json'), 'utf8'));
    const parse = (edit: (m: typeof manifest) => void) => () => {
      const m = structuredClone(manifest);
      edit(m);
      parseManifest(m, 'manifest.json');
    };
    expect(parse(() => {})).not.toThrow();
    expect(
      parse((m) => {
        m.graphs.vae_decoder = null;
      }),
    ).toThrow(/latent is set: graphs\.vae_encoder and graphs\.vae_decoder are required/);
    expect(
      parse((m) => {
        m.latent = null;
      }),
    ).toThrow(/need "latent"/);
    expect(
      parse((m) => {
        m.graphs.renderer = null;
        m.sampler.use_renderer = true;
      }),
    ).toThrow(/sampler\.use_renderer needs graphs\.renderer/);
  });

  it('checks latent dims against the graphs', async () => {
    const dir = await variant((m) => {
      m.latent.channels = 5;
    });
    await expect(loadModelPackage(dir, cpu)).rejects.toThrow(
      /"pixels" axis 1 is 4, manifest\.json says latent\.channels = 5/,
    );
  });
});
