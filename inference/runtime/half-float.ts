/**
 * IEEE 754 binary16 <-> float32 for float16 graphs. Node 20 has no Float16Array, so onnxruntime-node carries
 * float16 tensors as Uint16Array bit patterns. Rounding is to nearest, ties to even, exactly like numpy's
 * astype(float16) in the Python references; overflow gives +-Infinity, NaN stays NaN (quiet, 0x7e00).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 value (a JS number is first rounded to float32, as a Float32Array element would be) -> half bits. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | (mant !== 0 ? 0x7e00 : 0x7c00);
  const e = exp - 127 + 15; // biased half exponent
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal: count of 2^-24 units = mant24 >> (14 - e). Below 2^-25 everything rounds to zero.
    if (e < -10) return sign;
    const shift = 14 - e;
    const full = mant | 0x800000;
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (m & 1) === 1)) m++; // may carry into the smallest normal
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, and 0x7bff + 1 = 0x7c00 is Infinity: both are right.
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return h;
}

let table: Float32Array | undefined;

/** All 65536 half values as float32 (built once, 256 KiB): reading logits stays a table lookup. */
function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * 2 ** -24 * frac;
    else if (exp === 31) table[h] = frac !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else table[h] = sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return table;
}

/** Half bits -> value (exact: every half is a float32). */
export function halfToFloat(bits: number): number {
  return halfTable()[bits & 0xffff]!;
}

/** Float32Array -> Uint16Array of half bits. */
export function toHalfArray(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = floatToHalf(data[i]!);
  return out;
}

/** Half bits [start, end) -> Float32Array. */
export function fromHalfArray(bits: Uint16Array, start = 0, end = bits.length): Float32Array {
  const t = halfTable();
  const out = new Float32Array(end - start);
  for (let i = start; i < end; i++) out[i - start] = t[bits[i]!]!;
  return out;
}
