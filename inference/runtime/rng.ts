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

const MASK64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;
const MIX1 = 0xbf58476d1ce4e5b9n;
const MIX2 = 0x94d049bb133111ebn;
const TWO_POW_MINUS_53 = 2 ** -53;

/** XOR applied to an image seed to seed its diffusion-noise generator. */
export const NOISE_SEED_XOR = 0xd1b54a32d192ed03n;

export class SplitMix64 {
  private state: bigint;

  constructor(seed: bigint) {
    this.state = BigInt.asUintN(64, seed);
  }

  /** Next raw u64. */
  next(): bigint {
    this.state = (this.state + GOLDEN_GAMMA) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * MIX1) & MASK64;
    z = ((z ^ (z >> 27n)) * MIX2) & MASK64;
    return z ^ (z >> 31n);
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    return Number(this.next() >> 11n) * TWO_POW_MINUS_53;
  }

  /** Standard normal via Box-Muller (cosine half only; two uniforms per normal). */
  normal(): number {
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/** Seed of image `index` of a request: seed + index mod 2^64. */
export function seedForImage(seed: bigint, index: number): bigint {
  return BigInt.asUintN(64, seed + BigInt(index));
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
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.normal();
  return out;
}
