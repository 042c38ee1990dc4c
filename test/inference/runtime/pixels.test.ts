import { describe, expect, it } from 'vitest';
import {
  borderMedians,
  type ImageNorm,
  imageToTensor,
  median,
  normalizeBackground,
  roundHalfEven,
  tensorToImage,
} from '../../../inference/runtime/pixels.js';
import { solidImage } from './helpers.js';

const norm: ImageNorm = { size: 3, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], background: 'none' };

describe('pixels', () => {
  it('rounds half to even and takes numpy medians', () => {
    expect([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, 2, 3]);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('converts RGB HWC to normalised [3, H, W] and back', () => {
    const img = solidImage(3, [0, 255, 51]);
    img.data[4 * 3] = 128; // centre pixel red
    const x = imageToTensor(img, norm);
    expect(x).toHaveLength(27);
    expect(x[0]).toBe(-1); // channel 0, pixel 0
    expect(x[9]).toBe(1); // channel 1, pixel 0
    expect(x[18]).toBeCloseTo(-0.6, 6); // channel 2
    expect(x[4]).toBeCloseTo(128 / 127.5 - 1, 6);
    expect(Array.from(tensorToImage(x, norm).data)).toEqual(Array.from(img.data));
  });

  it('clamps decoded pixels to uint8', () => {
    const out = tensorToImage(new Float32Array(27).fill(2), norm);
    expect(out.data[0]).toBe(255);
    expect(tensorToImage(new Float32Array(27).fill(-3), norm).data[5]).toBe(0);
  });

  it('normalises pale backgrounds to white using border medians', () => {
    const img = solidImage(3, [200, 220, 250]);
    img.data.set([100, 110, 125], 4 * 3); // interior pixel is not part of the border
    expect(borderMedians(img)).toEqual([200, 220, 250]);
    const out = normalizeBackground(img);
    expect(Array.from(out.data.slice(0, 3))).toEqual([255, 255, 255]);
    // 100 * 255 / 200 = 127.5 -> 128 (half to even), 110 * 255 / 220 = 127.5 -> 128, 125 * 255 / 250 = 127.5 -> 128
    expect(Array.from(out.data.slice(12, 15))).toEqual([128, 128, 128]);
  });

  it('leaves darker backgrounds alone', () => {
    const img = solidImage(3, [199, 250, 250]);
    expect(normalizeBackground(img)).toBe(img);
  });

  it('applies background normalisation before the model transform when asked', () => {
    const img = solidImage(3, [230, 230, 230]);
    expect(imageToTensor(img, { ...norm, background: 'normalize_white' })[0]).toBe(1);
    expect(imageToTensor(img, norm)[0]).toBeCloseTo(230 / 127.5 - 1, 6);
    expect(() => imageToTensor(solidImage(4, [0, 0, 0]), norm)).toThrow(/3x3/);
  });
});
