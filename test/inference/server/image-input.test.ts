/** Input image conversion: orientation, alpha, bit depth, animation, shape-preserving resize, header reads. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../inference/runtime/api.js';
import { sniffImageFormat } from '../../../inference/server/image-format.js';
import { readImageDimensions } from '../../../inference/server/image-header.js';
import { chooseFit, decodeInputImage } from '../../../inference/server/image-input.js';
import {
  animatedGif,
  bombPng,
  png16,
  rotatedJpeg,
  solidJpeg,
  solidPng,
  solidWebp,
  transparentPng,
} from './images.js';

const limits = { maxImageBytes: 20 * 1024 * 1024, maxImagePixels: 40_000_000 };
const decode = (data: Buffer) => decodeInputImage({ data, mime_type: '' }, 'image', 32, limits);
const pixel = (img: RgbImage, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 12);

describe('decodeInputImage', () => {
  it('applies EXIF orientation before resizing', async () => {
    const img = await decode(await rotatedJpeg());
    // Stored 40x20 red|blue; orientation 6 shows it 20x40 with red on top.
    expect(near(pixel(img, 16, 4), [255, 0, 0])).toBe(true);
    expect(near(pixel(img, 16, 28), [0, 0, 255])).toBe(true);
    expect(pixel(img, 1, 16)).toEqual([255, 255, 255]); // contain: white side padding
  });

  it('flattens transparency on white', async () => {
    const img = await decode(await transparentPng(20, 20));
    expect(img.data.every((v) => v === 255)).toBe(true);
  });

  it('converts 16-bit PNG to 8-bit RGB', async () => {
    const img = await decode(await png16(30, 30, { r: 0, g: 255, b: 0 }));
    expect(img.data).toHaveLength(32 * 32 * 3);
    expect(pixel(img, 10, 10)).toEqual([0, 255, 0]);
  });

  it('takes the first frame of an animated GIF', async () => {
    const img = await decode(await animatedGif(24, { r: 255, g: 0, b: 0 }, { r: 0, g: 0, b: 255 }));
    expect(near(pixel(img, 16, 16), [255, 0, 0])).toBe(true);
  });

  it('centre-crops near-square images and pads long ones with white', async () => {
    expect(chooseFit(100, 90)).toBe('cover');
    expect(chooseFit(200, 100)).toBe('contain');
    const cropped = await decode(await solidPng(110, 100, { r: 10, g: 20, b: 30 }));
    expect(pixel(cropped, 0, 0)).toEqual([10, 20, 30]);
    const padded = await decode(await solidPng(64, 32, { r: 10, g: 20, b: 30 }));
    expect(pixel(padded, 16, 2)).toEqual([255, 255, 255]);
    expect(pixel(padded, 16, 16)).toEqual([10, 20, 30]);
  });

  it('accepts JPEG and WebP', async () => {
    expect(
      near(pixel(await decode(await solidJpeg(40, 40, { r: 200, g: 100, b: 0 })), 5, 5), [200, 100, 0]),
    ).toBe(true);
    expect(pixel(await decode(await solidWebp(40, 40, { r: 1, g: 2, b: 3 })), 5, 5)).toEqual([1, 2, 3]);
  });

  it('refuses an image over the pixel limit from its header alone', async () => {
    const err = await decodeInputImage({ data: bombPng(3000, 3000), mime_type: '' }, 'image', 32, {
      ...limits,
      maxImagePixels: 1_000_000,
    }).catch((e) => e);
    expect(err).toMatchObject({ kind: 'resource_exhausted' });
    expect(err.message).toContain('3000x3000');
  });
});

describe('image headers and sniffing', () => {
  it('reads the same dimensions as libvips for every accepted format', async () => {
    const samples = [
      await solidPng(37, 21, { r: 0, g: 0, b: 0 }),
      await solidJpeg(37, 21, { r: 0, g: 0, b: 0 }),
      await solidWebp(37, 21, { r: 0, g: 0, b: 0 }),
      await sharp({ create: { width: 37, height: 21, channels: 3, background: '#123' } })
        .webp({ quality: 50 })
        .toBuffer(),
      await animatedGif(13, { r: 0, g: 0, b: 0 }, { r: 9, g: 9, b: 9 }),
    ];
    for (const bytes of samples) {
      const sniffed = sniffImageFormat(bytes);
      if (!sniffed || sniffed.format === 'refused') throw new Error('not sniffed');
      const meta = await sharp(bytes).metadata();
      expect(readImageDimensions(bytes, sniffed.format)).toEqual({
        width: meta.width,
        height: meta.pageHeight ?? meta.height,
      });
    }
  });

  it('names refused formats', () => {
    expect(sniffImageFormat(Buffer.from('  <svg xmlns="x"></svg>'))?.name).toBe('SVG');
    expect(sniffImageFormat(Buffer.from([0x49, 0x49, 0x2a, 0x00, 1, 2]))?.name).toBe('TIFF');
    expect(sniffImageFormat(Buffer.from('BM......'))?.name).toBe('BMP');
    expect(sniffImageFormat(Buffer.from('just text'))).toBeUndefined();
  });
});
