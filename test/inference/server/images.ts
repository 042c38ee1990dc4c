/** Test images built in memory with sharp (and by hand where sharp will not write the format). */
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

export type Rgb = { r: number; g: number; b: number };

export const solidPng = (width: number, height: number, c: Rgb) =>
  sharp({ create: { width, height, channels: 3, background: c } })
    .png()
    .toBuffer();

export const solidJpeg = (width: number, height: number, c: Rgb) =>
  sharp({ create: { width, height, channels: 3, background: c } })
    .jpeg({ quality: 95 })
    .toBuffer();

export const solidWebp = (width: number, height: number, c: Rgb) =>
  sharp({ create: { width, height, channels: 3, background: c } })
    .webp({ lossless: true })
    .toBuffer();

export const noisePng = (width: number, height: number) =>
  sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .png()
    .toBuffer();

/** Two frames: first `first`, then `second`. */
export async function animatedGif(size: number, first: Rgb, second: Rgb): Promise<Buffer> {
  const frame = (c: Rgb) => Buffer.alloc(size * size * 3).map((_, i) => [c.r, c.g, c.b][i % 3]!);
  return sharp(Buffer.concat([frame(first), frame(second)]), {
    raw: { width: size, height: size * 2, channels: 3, pageHeight: size },
  })
    .gif({ loop: 0, delay: [100, 100] })
    .toBuffer();
}

export const png16 = (width: number, height: number, c: Rgb) =>
  sharp({ create: { width, height, channels: 3, background: c } })
    .toColourspace('rgb16')
    .png()
    .toBuffer();

export const transparentPng = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .png()
    .toBuffer();

/** A tall image stored sideways: EXIF orientation 6 (rotate 90° clockwise) makes it wide. */
export async function rotatedJpeg(): Promise<Buffer> {
  // Left half red, right half blue, 40x20 as stored.
  const left = await sharp({
    create: { width: 20, height: 20, channels: 3, background: { r: 255, g: 0, b: 0 } },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 0, g: 0, b: 255 } } })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

export const tiff = () =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 1, g: 2, b: 3 } } })
    .tiff()
    .toBuffer();

export const svg = () =>
  Buffer.from(
    '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
  );

/** A 2x2 24-bit BMP. */
export function bmp(): Buffer {
  const b = Buffer.alloc(54 + 16);
  b.write('BM', 0);
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(2, 18);
  b.writeInt32LE(2, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  return b;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/**
 * A decompression bomb: a valid greyscale PNG of width x height zero pixels. Its IDAT is tiny because
 * zeros compress ~1000:1, but decoding it would allocate width*height*3 bytes.
 */
export function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((width + 1) * height); // filter byte 0 + zero pixels per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PNG whose header claims width x height but carries no pixel data at all. */
export function headerOnlyPng(width: number, height: number): Buffer {
  const full = bombPng(1, 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  return Buffer.concat([full.subarray(0, 8), pngChunk('IHDR', ihdr), pngChunk('IEND', Buffer.alloc(0))]);
}
