/**
 * The decoding side of png.ts: a small 8-bit RGB PNG that already has the model's size is read on the
 * calling thread (zlib + row unfiltering, ~0.1 ms for 32x32) instead of through sharp, whose round
 * trip through libuv's and libvips' thread pools costs ~1.5 ms on an idle machine and more while the
 * model keeps the cores busy. That is the bot's common case: a reply to the model's own image.
 *
 * Anything else returns undefined and goes to sharp: other sizes, colour types, bit depths, interlacing,
 * chunks that could change the pixels (iCCP, gAMA, cHRM, sBIT, tRNS, eXIf orientation, ...), and every
 * damaged file (bad CRC, short or long data, bad filter byte), so sharp's checks and error messages stay
 * the only ones a client sees. For the files it accepts the result equals sharp's pipeline byte for byte
 * (test/inference/server/png-decode.test.ts).
 */
import { crc32, inflateSync } from 'node:zlib';
import type { RgbImage } from '../runtime/api.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Chunks that never change the decoded pixels (plus IHDR, IDAT, IEND). */
const HARMLESS = new Set(['sRGB', 'pHYs', 'tEXt', 'zTXt', 'iTXt', 'tIME', 'bKGD', 'PLTE', 'sPLT', 'hIST']);

const u32 = (b: Uint8Array, i: number) =>
  ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
const tag = (b: Uint8Array, i: number) => String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);

/** The IDAT payloads of a well-formed PNG whose header is 8-bit RGB `size`x`size`, else undefined. */
function idatOf(b: Uint8Array, size: number): Uint8Array[] | undefined {
  if (b.length < 8 || SIGNATURE.some((v, i) => b[i] !== v)) return undefined;
  const idat: Uint8Array[] = [];
  let i = 8;
  let first = true;
  while (i + 12 <= b.length) {
    const length = u32(b, i);
    const type = tag(b, i + 4);
    const end = i + 8 + length;
    if (end + 4 > b.length || crc32(b.subarray(i + 4, end)) !== u32(b, end)) return undefined;
    const data = b.subarray(i + 8, end);
    if (first !== (type === 'IHDR')) return undefined;
    first = false;
    if (type === 'IHDR') {
      // width, height, bit depth 8, colour type 2 (RGB), compression 0, filter method 0, no interlace
      const ok = length === 13 && u32(data, 0) === size && u32(data, 4) === size;
      if (!ok || data[8] !== 8 || data[9] !== 2 || data[10] !== 0 || data[11] !== 0 || data[12] !== 0)
        return undefined;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') return end + 4 === b.length && idat.length > 0 ? idat : undefined;
    else if (!HARMLESS.has(type)) return undefined;
    i = end + 4;
  }
  return undefined;
}

const paeth = (a: number, b: number, c: number) => {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/** Reverses the per-row filters (PNG spec 9.2) in place into `out`; false on an unknown filter type. */
function unfilter(raw: Uint8Array, out: Uint8Array, size: number): boolean {
  const stride = size * 3;
  for (let y = 0; y < size; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const up = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= 3 ? out[row + x - 3]! : 0;
      const b = y > 0 ? out[up + x]! : 0;
      const c = x >= 3 && y > 0 ? out[up + x - 3]! : 0;
      let predictor: number;
      if (filter === 0) predictor = 0;
      else if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) predictor = paeth(a, b, c);
      else return false;
      out[row + x] = (raw[src + x]! + predictor) & 0xff;
    }
  }
  return true;
}

/** `size`x`size` RGB pixels of an 8-bit RGB PNG of exactly that size, or undefined (see the module comment). */
export function decodeSmallPngRgb(bytes: Uint8Array, size: number): RgbImage | undefined {
  const idat = idatOf(bytes, size);
  if (!idat) return undefined;
  const expected = (size * 3 + 1) * size;
  let raw: Buffer;
  try {
    // one byte more than a valid image needs, so an oversized stream is noticed without inflating it all
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch {
    return undefined;
  }
  if (raw.length !== expected) return undefined;
  const data = new Uint8Array(size * size * 3);
  return unfilter(raw, data, size) ? { width: size, height: size, data } : undefined;
}
