/**
 * The bad-input table, shared by the fake-runtime and real-runtime suites. Each case names the
 * request and the status it must get; `ok` cases (animated GIF, 16-bit PNG) must succeed.
 */
import * as grpc from '@grpc/grpc-js';
import { collectImageResult, type InferenceClient } from '../../../inference/client/client.js';
import type { ServerConfig } from '../../../inference/config.js';
import { drain } from './helpers.js';
import { animatedGif, bmp, bombPng, headerOnlyPng, noisePng, png16, solidPng, svg, tiff } from './images.js';

export interface BadInputCase {
  name: string;
  call: (client: InferenceClient) => Promise<unknown>;
  /** Expected status code, or 'ok'. */
  expect: grpc.status | 'ok';
  /** A fragment the error message must contain, so a person can act on it. */
  message?: RegExp;
}

const png = (data: Buffer, mime_type = '') => ({ data, mime_type });

export async function buildBadInputCases(config: Readonly<ServerConfig>): Promise<BadInputCase[]> {
  const good = await solidPng(40, 40, { r: 0, g: 128, b: 255 });
  const noisy = await noisePng(64, 64);
  const caption =
    (data: Buffer, mime_type = '') =>
    (c: InferenceClient) =>
      c.caption({ image: png(data, mime_type) });
  const S = grpc.status;
  return [
    { name: 'empty image', call: caption(Buffer.alloc(0)), expect: S.INVALID_ARGUMENT, message: /empty/ },
    { name: 'missing image', call: (c) => c.caption({}), expect: S.INVALID_ARGUMENT, message: /missing/ },
    {
      name: 'random bytes',
      call: caption(Buffer.from('hello, not an image at all')),
      expect: S.INVALID_ARGUMENT,
      message: /not a recognised image/,
    },
    {
      name: 'corrupt PNG body',
      call: caption(Buffer.concat([noisy.subarray(0, 60), Buffer.alloc(400, 7)])),
      expect: S.INVALID_ARGUMENT,
      message: /PNG/,
    },
    {
      name: 'truncated PNG',
      call: caption(noisy.subarray(0, Math.floor(noisy.length / 2))),
      expect: S.INVALID_ARGUMENT,
      message: /cannot decode the PNG/,
    },
    {
      name: 'PNG header without pixels',
      call: caption(headerOnlyPng(64, 64)),
      expect: S.INVALID_ARGUMENT,
      message: /PNG/,
    },
    { name: 'SVG', call: caption(svg()), expect: S.INVALID_ARGUMENT, message: /SVG/ },
    { name: 'TIFF', call: caption(await tiff()), expect: S.INVALID_ARGUMENT, message: /TIFF/ },
    { name: 'BMP', call: caption(bmp()), expect: S.INVALID_ARGUMENT, message: /BMP/ },
    {
      name: 'mime_type mismatch',
      call: caption(good, 'image/jpeg'),
      expect: S.INVALID_ARGUMENT,
      message: /mime_type says image\/jpeg but the bytes are PNG/,
    },
    {
      name: 'bytes over the limit',
      call: caption(Buffer.concat([good, Buffer.alloc(config.limits.maxImageBytes)])),
      expect: S.RESOURCE_EXHAUSTED,
      message: /limit/,
    },
    {
      name: 'huge dimensions (header only)',
      call: caption(headerOnlyPng(100_000, 100_000)),
      expect: S.RESOURCE_EXHAUSTED,
      message: /MP/,
    },
    {
      name: 'decompression bomb PNG',
      call: caption(bombPng(8000, 8000)),
      expect: S.RESOURCE_EXHAUSTED,
      message: /8000x8000/,
    },
    {
      name: 'animated GIF (first frame)',
      call: caption(await animatedGif(24, { r: 255, g: 0, b: 0 }, { r: 0, g: 0, b: 255 }), 'image/gif'),
      expect: 'ok',
    },
    { name: '16-bit PNG', call: caption(await png16(30, 30, { r: 0, g: 255, b: 0 })), expect: 'ok' },
    {
      name: 'empty prompt',
      call: (c) => drain(c.generate({ prompt: '   ' })),
      expect: S.INVALID_ARGUMENT,
      message: /prompt is empty/,
    },
    {
      name: 'over-long prompt',
      call: (c) => drain(c.generate({ prompt: 'x'.repeat(config.limits.maxPromptChars + 1) })),
      expect: S.INVALID_ARGUMENT,
      message: /characters/,
    },
    {
      name: 'num_images 5',
      call: (c) => drain(c.generate({ prompt: 'a', num_images: 5 })),
      expect: S.INVALID_ARGUMENT,
      message: /num_images/,
    },
    {
      name: 'guidance_scale 0.5',
      call: (c) => drain(c.generate({ prompt: 'a', guidance_scale: 0.5 })),
      expect: S.INVALID_ARGUMENT,
      message: /guidance_scale/,
    },
    {
      name: 'temperature 3',
      call: (c) => drain(c.generate({ prompt: 'a', temperature: 3 })),
      expect: S.INVALID_ARGUMENT,
      message: /temperature/,
    },
    {
      name: 'top_p 0',
      call: (c) => drain(c.generate({ prompt: 'a', top_p: 0 })),
      expect: S.INVALID_ARGUMENT,
      message: /top_p/,
    },
    {
      // one over the bundled manifest's max_steps (steps 0 is its one-step renderer, so valid)
      name: 'steps 51',
      call: (c) => drain(c.generate({ prompt: 'a', steps: 51 })),
      expect: S.INVALID_ARGUMENT,
      message: /steps/,
    },
    {
      name: 'steps 100000',
      call: (c) => drain(c.generate({ prompt: 'a', steps: 100_000 })),
      expect: S.INVALID_ARGUMENT,
      message: /steps/,
    },
    {
      name: 'blend range reversed',
      call: (c) => drain(c.blend({ image_a: png(good), image_b: png(good), from_index: 5, to_index: 2 })),
      expect: S.INVALID_ARGUMENT,
      message: /from_index/,
    },
    {
      name: 'decode: wrong token count',
      call: (c) => drain(c.decode({ tokens: [1, 2, 3] })),
      expect: S.INVALID_ARGUMENT,
      message: /tokens must hold/,
    },
    {
      name: 'decode: token outside codebook',
      call: async (c) => {
        const info = await c.getModelInfo();
        const m = info.models[0]!;
        return drain(c.decode({ tokens: Array.from({ length: m.tokens_per_image }, () => m.codebook_size) }));
      },
      expect: S.INVALID_ARGUMENT,
      message: /outside the codebook/,
    },
    {
      name: 'chat ending with the assistant',
      call: (c) => drain(c.chat({ turns: [{ role: 'ROLE_ASSISTANT', parts: [{ text: 'hi' }] }] })),
      expect: S.INVALID_ARGUMENT,
      message: /last turn/,
    },
    {
      name: 'unknown model',
      call: (c) => c.caption({ image: png(good), model: 'nope' }),
      expect: S.NOT_FOUND,
      message: /unknown model 'nope'; available: /,
    },
    {
      name: 'cancelled',
      call: (c) => {
        const controller = new AbortController();
        const p = collectImageResult(c.generate({ prompt: 'cancel me' }, { signal: controller.signal }));
        setTimeout(() => controller.abort(), 5);
        return p;
      },
      expect: S.CANCELLED,
    },
    {
      name: 'deadline exceeded',
      call: (c) => collectImageResult(c.generate({ prompt: 'too slow', num_images: 4 }, { timeoutMs: 5 })),
      expect: S.DEADLINE_EXCEEDED,
    },
  ];
}
