/**
 * Encodes runtime pixels for the wire: PNG (default) or lossless WebP. Deterministic for equal pixels.
 *
 * Small PNGs (the model's outputs and previews: 32x32 for the bundled model) are encoded here, on the
 * calling thread (png.ts, ~0.1 ms). A sharp pipeline for the same image costs a round trip through
 * libuv's thread pool plus libvips' worker threads: ~0.5 ms on an idle machine, and several ms when the
 * cores are busy with the model, as they are while a server streams previews or finishes a job.
 */
import sharp from 'sharp';
import type { Image, OutputFormat } from '../protocol/types.js';
import type { RgbImage } from '../runtime/api.js';
import { encodePngRgb } from './png.js';

/** PNGs of at most this many pixels are encoded on the calling thread; larger ones by sharp. */
export const INLINE_PNG_MAX_PIXELS = 64 * 64;

export function checkRgbImage(img: RgbImage): void {
  if (img.data.length !== img.width * img.height * 3) {
    throw new Error(`runtime returned ${img.data.length} bytes for a ${img.width}x${img.height} RGB image`);
  }
}

export async function encodeImage(img: RgbImage, format: OutputFormat): Promise<Image> {
  checkRgbImage(img);
  if (format !== 'OUTPUT_FORMAT_WEBP' && img.width * img.height <= INLINE_PNG_MAX_PIXELS) {
    return { data: encodePngRgb(img), mime_type: 'image/png' };
  }
  const pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (format === 'OUTPUT_FORMAT_WEBP') {
    return { data: await pipeline.webp({ lossless: true }).toBuffer(), mime_type: 'image/webp' };
  }
  return { data: await pipeline.png().toBuffer(), mime_type: 'image/png' };
}
