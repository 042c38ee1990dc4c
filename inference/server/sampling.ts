/** Resolves a request's optional sampling fields against the model's defaults and legal ranges. */
import { randomBytes } from 'node:crypto';
import type { SamplingFields } from '../protocol/types.js';
import type { ModelDescription, SamplingParams } from '../runtime/api.js';
import { invalidArgument } from './errors.js';
import { stepBounds } from './models.js';

export const GUIDANCE_RANGE = { min: 1, max: 20 } as const;
export const TEMPERATURE_RANGE = { min: 0, max: 2 } as const;
const U64_MAX = (1n << 64n) - 1n;

function checkRange(value: number, name: string, min: number, max: number, minExclusive = false): number {
  const tooLow = minExclusive ? value <= min : value < min;
  if (!Number.isFinite(value) || tooLow || value > max) {
    throw invalidArgument(`${name} must be in ${minExclusive ? '(' : '['}${min}, ${max}]; got ${value}`);
  }
  return value;
}

/** A seed from the request, or a fresh random u64 (returned to the caller so the result can be redone). */
export function resolveSeed(seed: string | undefined): bigint {
  if (seed === undefined) return randomBytes(8).readBigUInt64BE();
  const value = BigInt(seed);
  if (value < 0n || value > U64_MAX) throw invalidArgument(`seed must be a u64; got ${seed}`);
  return value;
}

export function resolveSampling(fields: SamplingFields, desc: ModelDescription): SamplingParams {
  const d = desc.defaults;
  const steps = stepBounds(desc);
  return {
    seed: resolveSeed(fields.seed),
    guidanceScale: checkRange(
      fields.guidance_scale ?? d.guidanceScale,
      'guidance_scale',
      GUIDANCE_RANGE.min,
      GUIDANCE_RANGE.max,
    ),
    temperature: checkRange(
      fields.temperature ?? d.temperature,
      'temperature',
      TEMPERATURE_RANGE.min,
      TEMPERATURE_RANGE.max,
    ),
    topK: fields.top_k ?? d.topK,
    topP: checkRange(fields.top_p ?? d.topP, 'top_p', 0, 1, true),
    steps: checkRange(fields.steps ?? d.steps, 'steps', steps.min, steps.max),
  };
}
