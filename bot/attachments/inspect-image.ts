/** Reads the real format and pixel size of downloaded bytes (sharp metadata; nothing is decoded). */
import sharp from 'sharp';
import { UserError } from '../errors.js';

const MIME_BY_FORMAT: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};

export interface ImageFacts {
  mimeType: string;
  width: number;
  height: number;
}

export async function inspectImage(data: Uint8Array, maxPixels: number): Promise<ImageFacts> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(data, { limitInputPixels: false }).metadata();
  } catch {
    throw new UserError('That file is not a readable image. Please upload a PNG, JPEG, WebP or GIF.');
  }
  const mimeType = meta.format ? MIME_BY_FORMAT[meta.format] : undefined;
  if (!mimeType || !meta.width || !meta.height) {
    throw new UserError(
      `Images in ${meta.format ?? 'this'} format are not supported. Please upload a PNG, JPEG, WebP or GIF.`,
    );
  }
  // For animations sharp reports one frame's height (pageHeight) unless asked for all pages.
  const height = meta.pageHeight ?? meta.height;
  if (meta.width * height > maxPixels) {
    throw new UserError(
      `The image is ${meta.width}x${height} pixels; the limit is ${maxPixels.toLocaleString('en')} pixels.`,
    );
  }
  return { mimeType, width: meta.width, height };
}
