/** The on-thread PNG reader: equal to sharp for what it accepts, and declines everything else. */
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeInputImage } from '../../../inference/server/image-input.js';
import { pngChunk as chunk, encodePngRgb } from '../../../inference/server/png.js';
import { decodeSmallPngRgb } from '../../../inference/server/png-decode.js';

const SIZE = 32;
const limits = { maxImageBytes: 20 * 1024 * 1024, maxImagePixels: 40_000_000 };

/** Smooth gradients plus noise, so that every filter type is worth choosing somewhere. */
function picture(seed: number, size = SIZE): Uint8Array {
  const data = new Uint8Array(size * size * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const x = (i / 3) % size;
    const y = Math.floor(i / 3 / size);
    data[i] = (x * 7 + y * 3 * (i % 3) + (s >>> 28)) & 0xff;
  }
  return data;
}

const sharpPng = (data: Uint8Array, opts: sharp.PngOptions, size = SIZE) =>
  sharp(data, { raw: { width: size, height: size, channels: 3 } })
    .png(opts)
    .toBuffer();

/** Pixels through sharp only, as decodeInputImage produced them before the fast path. */
async function viaSharp(png: Buffer): Promise<Uint8Array> {
  const { data } = await sharp(png)
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(SIZE, SIZE, { fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

/** Inserts a chunk right after IHDR (8 signature + 25 IHDR bytes). */
const withChunk = (png: Buffer, type: string, data: Uint8Array) =>
  Buffer.concat([png.subarray(0, 33), chunk(type, data), png.subarray(33)]);

describe('decodeSmallPngRgb', () => {
  it('reads every filter type exactly as sharp does', async () => {
    for (const [seed, opts] of [
      [1, { adaptiveFiltering: true, compressionLevel: 9 }],
      [2, { adaptiveFiltering: false, compressionLevel: 1 }],
      [3, { adaptiveFiltering: true, compressionLevel: 0 }],
    ] as const) {
      const data = picture(seed);
      const png = await sharpPng(data, opts);
      const got = decodeSmallPngRgb(png, SIZE);
      expect(got, `seed ${seed}`).toBeDefined();
      expect(Buffer.from(got!.data).equals(Buffer.from(data))).toBe(true);
      expect(Buffer.from(got!.data).equals(Buffer.from(await viaSharp(png)))).toBe(true);
    }
    const ours = encodePngRgb({ width: SIZE, height: SIZE, data: picture(4) });
    expect(Buffer.from(decodeSmallPngRgb(ours, SIZE)!.data).equals(Buffer.from(picture(4)))).toBe(true);
  });

  it('reads each filter type written by hand (sub, up, average, paeth)', () => {
    const data = picture(5);
    const stride = SIZE * 3;
    for (const filter of [1, 2, 3, 4]) {
      const raw = Buffer.alloc((stride + 1) * SIZE);
      for (let y = 0; y < SIZE; y++) {
        raw[y * (stride + 1)] = filter;
        for (let x = 0; x < stride; x++) {
          const at = (dy: number, dx: number) =>
            y + dy >= 0 && x + dx >= 0 ? data[(y + dy) * stride + x + dx]! : 0;
          const [a, b, c] = [at(0, -3), at(-1, 0), at(-1, -3)];
          const p = a + b - c;
          const paeth =
            Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
              ? a
              : Math.abs(p - b) <= Math.abs(p - c)
                ? b
                : c;
          const predictor = [0, a, b, (a + b) >> 1, paeth][filter]!;
          raw[y * (stride + 1) + 1 + x] = (data[y * stride + x]! - predictor) & 0xff;
        }
      }
      const base = encodePngRgb({ width: SIZE, height: SIZE, data });
      const png = Buffer.concat([
        base.subarray(0, 33),
        chunk('IDAT', deflateSync(raw)),
        chunk('IEND', new Uint8Array()),
      ]);
      const got = decodeSmallPngRgb(png, SIZE);
      expect(got && Buffer.from(got.data).equals(Buffer.from(data)), `filter ${filter}`).toBe(true);
    }
  });

  it('declines other sizes, alpha, grey, 16-bit, palettes and interlacing', async () => {
    const data = picture(6);
    expect(decodeSmallPngRgb(await sharpPng(data, {}), 16)).toBeUndefined();
    expect(decodeSmallPngRgb(await sharpPng(picture(6, 16), {}, 16), SIZE)).toBeUndefined();
    const rgba = await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .ensureAlpha()
      .png()
      .toBuffer();
    expect(decodeSmallPngRgb(rgba, SIZE)).toBeUndefined();
    const grey = await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect(decodeSmallPngRgb(grey, SIZE)).toBeUndefined();
    const deep = await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect(decodeSmallPngRgb(deep, SIZE)).toBeUndefined();
    expect(decodeSmallPngRgb(await sharpPng(data, { palette: true }), SIZE)).toBeUndefined();
    expect(decodeSmallPngRgb(await sharpPng(data, { progressive: true }), SIZE)).toBeUndefined();
  });

  it('declines chunks that could change the pixels, and keeps going past harmless ones', () => {
    const png = encodePngRgb({ width: SIZE, height: SIZE, data: picture(7) });
    for (const type of ['gAMA', 'iCCP', 'cHRM', 'tRNS', 'eXIf', 'sBIT', 'abCd'])
      expect(decodeSmallPngRgb(withChunk(png, type, new Uint8Array(6)), SIZE), type).toBeUndefined();
    const text = withChunk(png, 'tEXt', Buffer.from('Comment\0hello'));
    expect(Buffer.from(decodeSmallPngRgb(text, SIZE)!.data).equals(Buffer.from(picture(7)))).toBe(true);
  });

  it('declines damaged files, and decodeInputImage then reports them through sharp as before', async () => {
    const png = encodePngRgb({ width: SIZE, height: SIZE, data: picture(8) });
    const badCrc = Buffer.from(png);
    badCrc[40] = badCrc[40]! ^ 0xff; // inside IDAT
    const truncated = png.subarray(0, png.length - 20);
    const trailing = Buffer.concat([png, Buffer.from('junk')]);
    const short = Buffer.concat([
      png.subarray(0, 33),
      chunk('IDAT', deflateSync(Buffer.alloc(10))),
      chunk('IEND', new Uint8Array()),
    ]);
    const badFilter = Buffer.concat([
      png.subarray(0, 33),
      chunk('IDAT', deflateSync(Buffer.alloc((SIZE * 3 + 1) * SIZE, 7))),
      chunk('IEND', new Uint8Array()),
    ]);
    for (const bytes of [badCrc, truncated, trailing, short, badFilter])
      expect(decodeSmallPngRgb(bytes, SIZE)).toBeUndefined();
    await expect(decodeInputImage({ data: short, mime_type: '' }, 'image', SIZE, limits)).rejects.toThrow(
      /image: cannot decode the PNG image/,
    );
  });

  it('is what decodeInputImage returns for a plain RGB PNG of the model size', async () => {
    const data = picture(9);
    const png = await sharpPng(data, { adaptiveFiltering: true });
    const img = await decodeInputImage({ data: png, mime_type: 'image/png' }, 'image', SIZE, limits);
    expect(Buffer.from(img.data).equals(Buffer.from(data))).toBe(true);
  });
});
