/**
 * Parity with an independent Python implementation of the documented recipes (fixtures/tiny_reference.py:
 * unbatched, unpadded rows in onnxruntime Python). Token ids must match exactly, pixels within 1.
 * The runtime runs the cases concurrently, so this also checks that batching + left padding change nothing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DdtRuntime, loadModelPackage } from '../../../inference/runtime/index.js';
import { ctx, patternImage } from './helpers.js';

interface Golden {
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
  encode: { salt: number; codes: number[] };
  caption: { salt: number; ids: number[]; text: string };
  decode: { codes: number[]; keep: number; seed: string; steps: number; pixels: number[] };
}

const golden = JSON.parse(
  readFileSync(new URL('./fixtures/tiny-golden.json', import.meta.url), 'utf8'),
) as Golden;
const dir = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));
let rt: DdtRuntime;

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

beforeAll(async () => {
  rt = await loadModelPackage(dir, { executionProvider: 'cpu' });
});
afterAll(async () => {
  await rt?.close();
});

describe('tiny package vs Python reference', () => {
  it('generates the same tokens and pixels (sampled, top-k/top-p, guidance, greedy)', async () => {
    const results = await Promise.all(
      golden.generate.map((g) =>
        rt.generate(
          g.prompt,
          1,
          {
            seed: BigInt(g.seed),
            guidanceScale: g.guidance,
            temperature: g.temperature,
            topK: g.top_k,
            topP: g.top_p,
            steps: g.steps,
          },
          ctx(),
        ),
      ),
    );
    results.forEach(([img], i) => {
      expect(img!.tokens).toEqual(golden.generate[i]!.tokens);
      expect(maxDiff(img!.image.data, golden.generate[i]!.pixels)).toBeLessThanOrEqual(1);
    });
  });

  it('encodes and captions like the reference', async () => {
    const img = patternImage(8, golden.encode.salt);
    expect(await rt.encode(img, ctx())).toEqual(golden.encode.codes);
    expect(await rt.caption(img, ctx())).toBe(golden.caption.text);
  });

  it('decodes a partial keep like the reference', async () => {
    const d = golden.decode;
    const p = { seed: BigInt(d.seed), guidanceScale: 1, temperature: 1, topK: 0, topP: 1, steps: d.steps };
    const image = await rt.decode(d.codes, d.keep, p, ctx());
    expect(maxDiff(image.data, d.pixels)).toBeLessThanOrEqual(1);
  });
});
