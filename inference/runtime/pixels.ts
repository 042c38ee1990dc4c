/**
 * Pure pixel <-> tensor conversions (no sharp here: the server hands RGB at model resolution).
 * Rounding is round-half-to-even (numpy.rint / torch.round) everywhere, to match the Python reference.
 */
import type { RgbImage } from './api.js';

export interface ImageNorm {
  size: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  background: 'normalize_white' | 'none';
}

/** Round half to even. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Median with numpy semantics (mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Per-channel median of the border pixels (first/last row and column, each pixel once). */
export function borderMedians(img: RgbImage): [number, number, number] {
  const { width: W, height: H, data } = img;
  const channels: number[][] = [[], [], []];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (y !== 0 && y !== H - 1 && x !== 0 && x !== W - 1) continue;
      for (let c = 0; c < 3; c++) channels[c]!.push(data[(y * W + x) * 3 + c]!);
    }
  }
  return [median(channels[0]!), median(channels[1]!), median(channels[2]!)];
}

/**
 * "normalize_white": if every channel's border median is >= 200, scale channel c by 255 / median_c,
 * round, clamp to 255. Otherwise the image is returned unchanged.
 */
export function normalizeBackground(img: RgbImage): RgbImage {
  const med = borderMedians(img);
  if (med.some((m) => m < 200)) return img;
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i++) {
    const c = i % 3;
    data[i] = Math.min(255, roundHalfEven((img.data[i]! * 255) / med[c]!));
  }
  return { width: img.width, height: img.height, data };
}

/** RGB uint8 HWC -> model pixels [3, H, W] float: (rgb / 255 - mean) / std, after background handling. */
export function imageToTensor(img: RgbImage, norm: ImageNorm): Float32Array {
  if (img.width !== norm.size || img.height !== norm.size) {
    throw new Error(`image must be ${norm.size}x${norm.size}, got ${img.width}x${img.height}`);
  }
  if (img.data.length !== img.width * img.height * 3) throw new Error('image data length != width*height*3');
  const src = norm.background === 'normalize_white' ? normalizeBackground(img) : img;
  const plane = norm.size * norm.size;
  const out = new Float32Array(3 * plane); // [3, H, W]
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      out[c * plane + p] = (src.data[p * 3 + c]! / 255 - norm.mean[c]!) / norm.std[c]!;
    }
  }
  return out;
}

/** Model pixels [3, H, W] in [-1, 1] -> RGB uint8 HWC: (x * std + mean) * 255, round, clamp. */
export function tensorToImage(x: Float32Array, norm: ImageNorm): RgbImage {
  const size = norm.size;
  const plane = size * size;
  const data = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = roundHalfEven((x[c * plane + p]! * norm.std[c]! + norm.mean[c]!) * 255);
      data[p * 3 + c] = Math.min(255, Math.max(0, v));
    }
  }
  return { width: size, height: size, data };
}
