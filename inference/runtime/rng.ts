/**
 * Seeded random numbers, bit-exact with the Python reference (training/): SplitMix64 over u64.
 *
 *   next():    state += 0x9E3779B97F4A7C15; z = state;
 *              z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
 *              return z ^ (z >> 31)                      (all arithmetic mod 2^64)
 *   uniform(): (next() >> 11) * 2^-53                   in [0, 1)
 *   normal():  u1 = 1 - uniform(); u2 = uniform(); sqrt(-2 ln u1) * cos(2 pi u2)   (the sine half is dropped)
 *
 * Image i of a request uses seed + i (mod 2^64). Its token sampler is `new SplitMix64(imageSeed)`; its
 * diffusion noise is `new SplitMix64(imageSeed ^ NOISE_SEED_XOR)` filling x in C-order [3, H, W].
 */

const TWO_POW_MINUS_53 = 2 ** -53;
const TWO_POW_21 = 2 ** 21;
const TWO_POW_32 = 2 ** 32;
// The 64-bit constants of the recipe as [high, low] 32-bit halves.
const GAMMA_HI = 0x9e3779b9;
const GAMMA_LO = 0x7f4a7c15;
const MIX1_HI = 0xbf58476d;
const MIX1_LO = 0x1ce4e5b9;
const MIX2_HI = 0x94d049bb;
const MIX2_LO = 0x133111eb;

/** XOR applied to an image seed to seed its diffusion-noise generator. */
export const NOISE_SEED_XOR = 0xd1b54a32d192ed03n;

/** High 32 bits of the 64-bit product of two u32 (16-bit limbs, so every partial product is exact). */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const a1b0 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (a1b0 & 0xffff) + a0 * b1; // < 2^33, exact in float64
  return (a1 * b1 + (a1b0 >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/**
 * The generator keeps its u64 state as two u32 halves in a Uint32Array and mixes with 32-bit integer
 * arithmetic: the same numbers as BigInt arithmetic mod 2^64, without allocating a BigInt per step (which
 * made the 3,072 normals of one 32x32 noise image cost milliseconds of main-thread time). Typed-array
 * slots, unlike object fields, hold u32 values >= 2^31 without boxing each one in a heap number.
 */
export class SplitMix64 {
  // [state >> 32, state & 0xffffffff, output >> 32, output & 0xffffffff] of the last step
  private readonly s = new Uint32Array(4);

  constructor(seed: bigint) {
    const s = BigInt.asUintN(64, seed);
    this.s[0] = Number(s >> 32n);
    this.s[1] = Number(s & 0xffffffffn);
  }

  /** Next raw u64. */
  next(): bigint {
    this.step();
    return (BigInt(this.s[2]!) << 32n) | BigInt(this.s[3]!);
  }

  /** Uniform double in [0, 1) with 53 random bits: (next() >> 11) * 2^-53. */
  uniform(): number {
    this.step();
    return this.lastUniform();
  }

  /** Standard normal via Box-Muller (cosine half only; two uniforms per normal). */
  normal(): number {
    this.step();
    const u1 = 1 - this.lastUniform();
    this.step();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * this.lastUniform());
  }

  /**
   * Fills `out` with normals in order (the same numbers as calling normal() for each slot). One loop in
   * one method: the hot path calls only step(), which returns nothing, so no double is boxed per draw.
   */
  fillNormals(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) {
      this.step();
      const u1 = 1 - this.lastUniform();
      this.step();
      out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * this.lastUniform());
    }
    return out;
  }

  /** (output >> 11) * 2^-53 of the last step. */
  private lastUniform(): number {
    const s = this.s;
    return (s[2]! * TWO_POW_21 + (s[3]! >>> 11)) * TWO_POW_MINUS_53;
  }

  /** One SplitMix64 step on the halves; leaves the output in s[2], s[3]. */
  private step(): void {
    const s = this.s;
    // state += GOLDEN_GAMMA (mod 2^64); the Uint32Array stores wrap mod 2^32
    const lo = s[1]! + GAMMA_LO;
    s[1] = lo;
    s[0] = s[0]! + GAMMA_HI + (lo >= TWO_POW_32 ? 1 : 0);
    // z = (z ^ (z >> 30)) * MIX1
    let zHi = s[0]!;
    let zLo = (s[1]! ^ ((s[1]! >>> 30) | (zHi << 2))) >>> 0;
    zHi = (zHi ^ (zHi >>> 30)) >>> 0;
    let h = (mulHigh32(zLo, MIX1_LO) + Math.imul(zHi, MIX1_LO) + Math.imul(zLo, MIX1_HI)) >>> 0;
    zLo = Math.imul(zLo, MIX1_LO) >>> 0;
    zHi = h;
    // z = (z ^ (z >> 27)) * MIX2
    zLo = (zLo ^ ((zLo >>> 27) | (zHi << 5))) >>> 0;
    zHi = (zHi ^ (zHi >>> 27)) >>> 0;
    h = (mulHigh32(zLo, MIX2_LO) + Math.imul(zHi, MIX2_LO) + Math.imul(zLo, MIX2_HI)) >>> 0;
    zLo = Math.imul(zLo, MIX2_LO) >>> 0;
    zHi = h;
    // z ^ (z >> 31)
    s[3] = zLo ^ ((zLo >>> 31) | (zHi << 1));
    s[2] = zHi ^ (zHi >>> 31);
  }
}

/** Seed of image `index` of a request: seed + index mod 2^64. */
export function seedForImage(seed: bigint, index: number): bigint {
  return BigInt.asUintN(64, seed + BigInt(index));
}

/**
 * Seed of candidate j (from 1) of the image with seed `imageSeed` (image-rerank.ts). A multiplicative step,
 * not +j: the images of one request have consecutive seeds, and their candidates must not be each other's.
 */
export function seedForCandidate(imageSeed: bigint, j: number): bigint {
  return BigInt.asUintN(64, imageSeed * 0x9e3779b97f4a7c15n + BigInt(j));
}

/**
 * Seed of a Generate's plan when it is sampled (temperature > 0, plans.ts): the multiplicative step of
 * seedForCandidate with j = 0, which no candidate uses.
 */
export function seedForPlan(seed: bigint): bigint {
  return seedForCandidate(seed, 0);
}

/** Generator for an image's token sampler. */
export function createTokenRng(imageSeed: bigint): SplitMix64 {
  return new SplitMix64(imageSeed);
}

/** Generator for an image's diffusion noise. */
export function createNoiseRng(imageSeed: bigint): SplitMix64 {
  return new SplitMix64(BigInt.asUintN(64, imageSeed) ^ NOISE_SEED_XOR);
}

/** Fills a new Float32Array of `length` standard normals in order (C-order of the caller's shape). */
export function fillNormal(rng: SplitMix64, length: number): Float32Array {
  return rng.fillNormals(new Float32Array(length));
}
