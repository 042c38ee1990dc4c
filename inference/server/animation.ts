/**
 * Reveal animations: the frames of decoding 1..K coarsest DDT tokens, played in order. Frames are
 * upscaled by an integer nearest-neighbour factor to at least MIN_ANIMATION_SIDE pixels, because a
 * 32-pixel animation is unreadable in a chat client and animations cannot easily be rescaled there.
 */
import * as gifencModule from 'gifenc';
import sharp from 'sharp';
import type { AnimationFormat, Image } from '../protocol/types.js';
import type { RgbImage } from '../runtime/api.js';
import { checkRgbImage } from './image-output.js';

// gifenc ships CJS (main) and ESM (module) builds: Node's CJS interop puts the API on `default`,
// the ESM build (picked by vite/vitest) exports it by name and makes `default` the encoder alone.
type Gifenc = typeof gifencModule.default;
const gifenc: Gifenc =
  'GIFEncoder' in gifencModule
    ? (gifencModule as unknown as Gifenc)
    : (gifencModule as { default: Gifenc }).default;

export const MIN_ANIMATION_SIDE = 256;
export const FRAME_DELAY_MS = 250;
export const LAST_FRAME_DELAY_MS = 1500;

/** Integer nearest-neighbour upscale (pure; pixels stay crisp). */
export function upscaleNearest(img: RgbImage, factor: number): RgbImage {
  if (factor === 1) return img;
  const width = img.width * factor;
  const height = img.height * factor;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const srcRow = Math.floor(y / factor) * img.width;
    for (let x = 0; x < width; x++) {
      const s = (srcRow + Math.floor(x / factor)) * 3;
      const d = (y * width + x) * 3;
      data[d] = img.data[s]!;
      data[d + 1] = img.data[s + 1]!;
      data[d + 2] = img.data[s + 2]!;
    }
  }
  return { width, height, data };
}

export function frameDelays(count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? LAST_FRAME_DELAY_MS : FRAME_DELAY_MS));
}

function encodeGif(frames: RgbImage[], delays: number[]): Uint8Array {
  const gif = gifenc.GIFEncoder();
  frames.forEach((frame, i) => {
    const rgba = new Uint8Array(frame.width * frame.height * 4);
    for (let p = 0; p < frame.width * frame.height; p++) {
      rgba.set(frame.data.subarray(p * 3, p * 3 + 3), p * 4);
      rgba[p * 4 + 3] = 255;
    }
    const palette = gifenc.quantize(rgba, 256);
    gif.writeFrame(gifenc.applyPalette(rgba, palette), frame.width, frame.height, {
      palette,
      delay: delays[i],
      repeat: 0,
    });
  });
  gif.finish();
  return gif.bytes();
}

async function encodeWebp(frames: RgbImage[], delays: number[]): Promise<Uint8Array> {
  const { width, height } = frames[0]!;
  // sharp reads an animation as frames stacked vertically with a page height.
  const stacked = Buffer.concat(frames.map((f) => f.data));
  return sharp(stacked, { raw: { width, height: height * frames.length, channels: 3, pageHeight: height } })
    .webp({ lossless: true, loop: 0, delay: delays })
    .toBuffer();
}

/** Encodes same-sized frames as an endlessly looping animated WebP (default) or GIF. */
export async function encodeAnimation(frames: RgbImage[], format: AnimationFormat): Promise<Image> {
  const first = frames[0];
  if (!first) throw new Error('no frames to animate');
  for (const f of frames) {
    checkRgbImage(f);
    if (f.width !== first.width || f.height !== first.height) throw new Error('reveal frames differ in size');
  }
  const factor = Math.max(1, Math.ceil(MIN_ANIMATION_SIDE / Math.max(first.width, first.height)));
  const scaled = frames.map((f) => upscaleNearest(f, factor));
  const delays = frameDelays(frames.length);
  if (format === 'ANIMATION_FORMAT_GIF') return { data: encodeGif(scaled, delays), mime_type: 'image/gif' };
  return { data: await encodeWebp(scaled, delays), mime_type: 'image/webp' };
}
