/**
 * A minimal PNG encoder for small 8-bit RGB images, run on the calling thread: signature, IHDR, one
 * zlib-compressed IDAT (filter type None on every row), IEND. Valid for any decoder, deterministic
 * for equal pixels. Meant for images of a few thousand pixels, where it is ~0.1 ms of work; larger
 * ones belong in sharp's thread pool (see image-output.ts).
 */
import { crc32, deflateSync } from 'node:zlib';
import type { RgbImage } from '../runtime/api.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data, CRC over type + data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export function encodePngRgb(img: RgbImage): Buffer {
  const { width, height, data } = img;
  if (!(width > 0 && height > 0) || data.length !== width * height * 3) {
    throw new Error(`cannot encode ${data.length} bytes as a ${width}x${height} RGB PNG`);
  }
  const stride = width * 3;
  const rows = Buffer.alloc((stride + 1) * height); // each row: filter byte 0 (None), then the pixels
  for (let y = 0; y < height; y++)
    rows.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, adaptive filtering method, no interlace
  return Buffer.concat([
    SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}
