/** Encodes runtime pixels for the wire: PNG (default) or lossless WebP. Deterministic for equal pixels. */
import sharp from 'sharp';
import type { Image, OutputFormat } from '../protocol/types.js';
import type { RgbImage } from '../runtime/api.js';

export function checkRgbImage(img: RgbImage): void {
  if (img.data.length !== img.width * img.height * 3) {
    throw new Error(`runtime returned ${img.data.length} bytes for a ${img.width}x${img.height} RGB image`);
  }
}

export async function encodeImage(img: RgbImage, format: OutputFormat): Promise<Image> {
  checkRgbImage(img);
  const pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (format === 'OUTPUT_FORMAT_WEBP') {
    return { data: await pipeline.webp({ lossless: true }).toBuffer(), mime_type: 'image/webp' };
  }
  return { data: await pipeline.png().toBuffer(), mime_type: 'image/png' };
}
