/** Output encoding: the in-thread PNG encoder and sharp give the same pixels, deterministically. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../inference/runtime/api.js';
import { encodeImage, INLINE_PNG_MAX_PIXELS } from '../../../inference/server/image-output.js';
import { encodePngRgb } from '../../../inference/server/png.js';

function pattern(width: number, height: number, seed = 1): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = i % 7 === 0 ? s >>> 24 : (i * 37) & 255; // noise and gradients
  }
  return { width, height, data };
}

async function pixelsOf(png: Uint8Array) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
}

describe('PNG output', () => {
  it('encodes RGB losslessly, as a PNG any decoder reads, deterministically', async () => {
    for (const [w, h] of [
      [1, 1],
      [7, 5],
      [32, 32],
      [64, 64],
      [3, 40],
    ] as const) {
      const img = pattern(w, h, w * 100 + h);
      const png = encodePngRgb(img);
      expect((await sharp(png).metadata()).format).toBe('png');
      expect(await pixelsOf(png)).toEqual({ data: img.data, width: w, height: h, channels: 3 });
      expect(encodePngRgb(img).equals(png)).toBe(true);
    }
  });

  it('refuses pixels that do not match the size', () => {
    expect(() => encodePngRgb({ width: 2, height: 2, data: new Uint8Array(11) })).toThrow(/2x2/);
  });

  it('gives the same pixels whether the image is small (in-thread) or large (sharp)', async () => {
    const small = pattern(32, 32);
    const large = pattern(80, 80);
    expect(small.width * small.height).toBeLessThanOrEqual(INLINE_PNG_MAX_PIXELS);
    expect(large.width * large.height).toBeGreaterThan(INLINE_PNG_MAX_PIXELS);
    for (const img of [small, large]) {
      for (const format of [
        'OUTPUT_FORMAT_UNSPECIFIED',
        'OUTPUT_FORMAT_PNG',
        'OUTPUT_FORMAT_WEBP',
      ] as const) {
        const out = await encodeImage(img, format);
        expect(out.mime_type).toBe(format === 'OUTPUT_FORMAT_WEBP' ? 'image/webp' : 'image/png');
        expect((await pixelsOf(out.data)).data).toEqual(img.data);
      }
    }
  });
});
