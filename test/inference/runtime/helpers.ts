/** Shared helpers for runtime tests. */
import type { JobContext, RgbImage, SamplingParams } from '../../../inference/runtime/api.js';

export function solidImage(size: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = rgb[i % 3]!;
  return { width: size, height: size, data };
}

/** Deterministic pseudo-random picture (a hash of the pixel index), for encode tests. */
export function patternImage(size: number, salt: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761 + salt * 40503) % 251;
  return { width: size, height: size, data };
}

export function ctx(extra: Partial<JobContext> = {}): JobContext {
  return { signal: new AbortController().signal, ...extra };
}

export function params(extra: Partial<SamplingParams> = {}): SamplingParams {
  return { seed: 7n, guidanceScale: 3, temperature: 1, topK: 0, topP: 1, steps: 3, ...extra };
}

/** The largest difference of one channel value between two images of the same size. */
export function maxPixelDiff(a: RgbImage, b: RgbImage): number {
  return a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0);
}
