/**
 * Picking the next token from one row of logits. Bit-for-bit recipe shared with the Python reference:
 *
 *  1. Guidance (image tokens only, when scale != 1): l = uncond + s * (cond - uncond), in float64.
 *  2. Mask: ids not allowed at this position get -Infinity (see vocab-masks.ts).
 *  3. temperature == 0: greedy argmax over allowed ids, ties -> lowest id. The caller still draws
 *     exactly one uniform from the token generator for every sampled token, greedy or not.
 *  4. Otherwise l / temperature; top-k (k > 0): keep the k best ids ranked by (logit desc, id asc);
 *     softmax in float64 over the kept ids (exp(l - max), summed in ascending id order);
 *     top-p (p < 1): rank kept ids by (prob desc, id asc), keep the shortest prefix whose summed
 *     probability >= p, renormalise (sum in ascending id order).
 *  5. Draw: walk the kept ids in ASCENDING id order accumulating probability; return the first id
 *     where the cumulative sum > u (u = one uniform() of the token generator). If rounding leaves the
 *     sum <= u, return the last kept id.
 */

export interface TokenSamplingParams {
  temperature: number; // 0 = greedy
  topK: number; // 0 = off
  topP: number; // 1 = off
}

/** Combines conditional and unconditional logits: uncond + s * (cond - uncond). */
export function applyGuidance(cond: Float32Array, uncond: Float32Array, scale: number): Float64Array {
  const out = new Float64Array(cond.length); // [V]
  for (let i = 0; i < cond.length; i++) out[i] = uncond[i]! + scale * (cond[i]! - uncond[i]!);
  return out;
}

/** Greedy choice among allowed ids: the highest logit, lowest id on ties. */
export function argmaxAllowed(logits: ArrayLike<number>, allowed: Uint8Array): number {
  let best = -1;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) {
    if (allowed[i] !== 1) continue;
    const v = logits[i]!;
    if (best < 0 || v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  if (best < 0) throw new Error('no token is allowed at this position');
  return best;
}

/** Probabilities over allowed ids after temperature, top-k and top-p (steps 4 of the recipe). */
export function tokenProbabilities(
  logits: ArrayLike<number>,
  allowed: Uint8Array,
  params: TokenSamplingParams,
): Float64Array {
  const probs = new Float64Array(logits.length); // [V], 0 for dropped ids
  let kept: number[] = [];
  for (let i = 0; i < logits.length; i++) if (allowed[i] === 1) kept.push(i);
  if (kept.length === 0) throw new Error('no token is allowed at this position');
  const scaled = (i: number) => logits[i]! / params.temperature;
  if (params.topK > 0 && params.topK < kept.length) {
    kept = [...kept].sort((a, b) => scaled(b) - scaled(a) || a - b).slice(0, params.topK);
    kept.sort((a, b) => a - b);
  }
  let max = Number.NEGATIVE_INFINITY;
  for (const i of kept) max = Math.max(max, scaled(i));
  let sum = 0;
  for (const i of kept) {
    probs[i] = Math.exp(scaled(i) - max);
    sum += probs[i]!;
  }
  for (const i of kept) probs[i] = probs[i]! / sum;
  if (params.topP < 1) {
    const ranked = [...kept].sort((a, b) => probs[b]! - probs[a]! || a - b);
    const nucleus = new Set<number>();
    let mass = 0;
    for (const i of ranked) {
      nucleus.add(i);
      mass += probs[i]!;
      if (mass >= params.topP) break;
    }
    let nucleusSum = 0;
    for (const i of kept) {
      if (nucleus.has(i)) nucleusSum += probs[i]!;
      else probs[i] = 0;
    }
    for (const i of kept) probs[i] = probs[i]! / nucleusSum;
  }
  return probs;
}

/** Inverse-CDF draw in ascending id order: first id with cumulative probability > u. */
export function drawFromProbabilities(probs: Float64Array, u: number): number {
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (p <= 0) continue;
    cumulative += p;
    last = i;
    if (cumulative > u) return i;
  }
  if (last < 0) throw new Error('empty probability distribution');
  return last;
}

/** Full recipe (steps 2-5) for one row; `u` is the token generator's uniform for this token. */
export function sampleToken(
  logits: ArrayLike<number>,
  allowed: Uint8Array,
  params: TokenSamplingParams,
  u: number,
): number {
  if (params.temperature === 0) return argmaxAllowed(logits, allowed);
  return drawFromProbabilities(tokenProbabilities(logits, allowed, params), u);
}

/** log softmax(logits[from, to))[id], in float64: the log-probability of `id` among the ids from..to-1. */
export function logSoftmaxAt(logits: ArrayLike<number>, from: number, to: number, id: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = from; i < to; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = from; i < to; i++) sum += Math.exp(logits[i]! - max);
  return logits[id]! - max - Math.log(sum);
}
