/**
 * Turns a client's Image message into the RGB pixels the runtime expects, or refuses it with an error a
 * person can act on. Order matters: cheap checks (size, magic bytes, mime hint, header dimensions) run
 * before any pixel is decoded, so a decompression bomb costs a header read, not gigabytes. libvips'
 * own header read (the second dimension check) runs alongside the decode when our header read found
 * acceptable dimensions: the decode is bounded by limitInputPixels anyway, libvips' verdict still
 * decides (its errors come first, as before), and the request saves a thread-pool round trip. A plain
 * 8-bit RGB PNG that already has the model's (small) size skips sharp altogether (png-decode.ts).
 *
 * Resizing keeps objects' shapes (never stretches): near-square inputs (long/short side <= 1.25) are
 * scaled to cover the model's square and centre-cropped, losing at most 10% per side; anything longer
 * is scaled to fit inside and padded with white, the background the model was trained on.
 */
import sharp from 'sharp';
import type { Image } from '../protocol/types.js';
import type { RgbImage } from '../runtime/api.js';
import { InputError, invalidArgument } from './errors.js';
import { type AcceptedFormat, MIME_BY_FORMAT, normaliseMimeType, sniffImageFormat } from './image-format.js';
import { readImageDimensions } from './image-header.js';
import { INLINE_PNG_MAX_PIXELS } from './image-output.js';
import { decodeSmallPngRgb } from './png-decode.js';

export interface ImageLimits {
  maxImageBytes: number;
  maxImagePixels: number;
}

export const COVER_MAX_ASPECT = 1.25;
const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };
const ACCEPTED = 'PNG, JPEG, WebP or GIF';

const formatMiB = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

/** Checks the bytes and returns the sniffed format; throws InputError otherwise. */
export function checkImageBytes(
  image: Image | null | undefined,
  field: string,
  limits: ImageLimits,
): AcceptedFormat {
  if (!image) throw invalidArgument(`${field} is missing`);
  const bytes = image.data;
  if (!bytes || bytes.length === 0) throw invalidArgument(`${field} is empty (0 bytes)`);
  if (bytes.length > limits.maxImageBytes) {
    throw new InputError(
      'resource_exhausted',
      `${field} is ${formatMiB(bytes.length)}; the limit is ${formatMiB(limits.maxImageBytes)}`,
    );
  }
  const sniffed = sniffImageFormat(bytes);
  if (!sniffed) throw invalidArgument(`${field} is not a recognised image; send ${ACCEPTED}`);
  if (sniffed.format === 'refused') {
    throw invalidArgument(`${field} is ${sniffed.name}, which is not accepted; send ${ACCEPTED}`);
  }
  const hint = normaliseMimeType(image.mime_type ?? '');
  if (hint !== '' && hint !== MIME_BY_FORMAT[sniffed.format]) {
    throw invalidArgument(`${field}: mime_type says ${hint} but the bytes are ${sniffed.name}`);
  }
  return sniffed.format;
}

function checkPixelCount(width: number, height: number, field: string, limits: ImageLimits): void {
  if (width * height > limits.maxImagePixels) {
    throw new InputError(
      'resource_exhausted',
      `${field} is ${width}x${height} (${((width * height) / 1e6).toFixed(1)} MP); the limit is ${(limits.maxImagePixels / 1e6).toFixed(1)} MP`,
    );
  }
}

/** libvips' header parse: the image's dimensions, checked against the pixel limit. */
async function checkLibvipsDimensions(
  bytes: Uint8Array,
  field: string,
  format: AcceptedFormat,
  limits: ImageLimits,
) {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw invalidArgument(
      `${field}: cannot read the ${format.toUpperCase()} header (${(err as Error).message})`,
    );
  }
  const { width, height } = meta;
  if (!width || !height)
    throw invalidArgument(`${field}: the ${format.toUpperCase()} header has no dimensions`);
  checkPixelCount(width, height, field, limits);
  return { width, height };
}

/** cover for near-square images, contain (white padding) otherwise; see the module comment. */
export function chooseFit(width: number, height: number): 'cover' | 'contain' {
  return Math.max(width, height) / Math.min(width, height) <= COVER_MAX_ASPECT ? 'cover' : 'contain';
}

/**
 * Validates and converts an Image to `size`x`size` 8-bit RGB: first frame of animations, EXIF orientation
 * applied, alpha flattened on white, 16-bit and greyscale converted to 8-bit sRGB.
 */
export async function decodeInputImage(
  image: Image | null | undefined,
  field: string,
  size: number,
  limits: ImageLimits,
): Promise<RgbImage> {
  const format = checkImageBytes(image, field, limits);
  const bytes = (image as Image).data;
  const claimed = readImageDimensions(bytes, format);
  if (claimed) checkPixelCount(claimed.width, claimed.height, field, limits);
  if (format === 'png' && size * size <= INLINE_PNG_MAX_PIXELS) {
    const small = decodeSmallPngRgb(bytes, size); // only plain RGB PNGs of exactly this size, see png-decode.ts
    if (small) return small;
  }
  const header = checkLibvipsDimensions(bytes, field, format, limits);
  if (!claimed) {
    const { width, height } = await header;
    return decodePixels(bytes, field, format, size, limits, chooseFit(width, height));
  }
  const fit = chooseFit(claimed.width, claimed.height);
  const pixels = decodePixels(bytes, field, format, size, limits, fit);
  pixels.catch(() => {}); // awaited below unless libvips' header check refuses the image first
  const { width, height } = await header;
  // The fit always follows libvips' dimensions; if they disagree with ours, decode again.
  return chooseFit(width, height) === fit
    ? pixels
    : decodePixels(bytes, field, format, size, limits, chooseFit(width, height));
}

/** Decodes, orients, flattens and resizes to `size`x`size` RGB with the given fit. */
async function decodePixels(
  bytes: Uint8Array,
  field: string,
  format: AcceptedFormat,
  size: number,
  limits: ImageLimits,
  fit: 'cover' | 'contain',
): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits.maxImagePixels, pages: 1, page: 0 })
      .rotate()
      .flatten({ background: WHITE })
      .toColourspace('srgb')
      .resize(size, size, { fit, position: 'centre', background: WHITE })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== size * size * 3) {
      throw new Error(`unexpected decode result ${info.width}x${info.height}x${info.channels}`);
    }
    return { width: size, height: size, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (err) {
    throw invalidArgument(
      `${field}: cannot decode the ${format.toUpperCase()} image (${(err as Error).message})`,
    );
  }
}
