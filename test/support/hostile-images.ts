/** Hostile image files for tests: PNGs that declare huge sizes while staying tiny on disk. */
import { crc32, createDeflate, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
  return Buffer.concat([head, data, crc]);
}

function ihdr(width: number, height: number): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = 8; // bit depth
  d[9] = 0; // greyscale
  return chunk('IHDR', d); // compression, filter, interlace: 0
}

/**
 * A decompression bomb: a valid header declaring `width` x `height` greyscale pixels and only the
 * first few rows of (zero) pixel data. A few KiB; a decoder that trusts it allocates width*height.
 */
export function bombPng(width = 30_000, height = 30_000): Buffer {
  const rows = deflateSync(Buffer.alloc((width + 1) * 4));
  return Buffer.concat([SIGNATURE, ihdr(width, height), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))]);
}

/** A complete, decodable all-black greyscale PNG (e.g. 10000 x 10000 = 100 megapixels in ~100 KiB). */
export async function blackPng(width: number, height: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (b: Buffer) => parts.push(b));
  const ended = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  const rowsPerWrite = 64;
  const block = Buffer.alloc((width + 1) * rowsPerWrite); // filter byte 0 + zero pixels, per row
  for (let y = 0; y < height; y += rowsPerWrite) {
    const n = Math.min(rowsPerWrite, height - y);
    if (!deflate.write(block.subarray(0, (width + 1) * n))) {
      await new Promise((r) => deflate.once('drain', r));
    }
  }
  deflate.end();
  await ended;
  return Buffer.concat([
    SIGNATURE,
    ihdr(width, height),
    chunk('IDAT', Buffer.concat(parts)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
