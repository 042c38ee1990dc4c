/** Checks of request fields other than images and sampling: text, counts, token ids, blend ranges. */
import type { ModelDescription } from '../runtime/api.js';
import { invalidArgument } from './errors.js';

export const MAX_IMAGES_PER_REQUEST = 4;

/** Trimmed text; refuses empty text and text over `maxChars` characters (code points, not bytes). */
export function checkText(text: string, field: string, maxChars: number): string {
  const trimmed = text.trim();
  if (trimmed === '') throw invalidArgument(`${field} is empty`);
  const chars = [...trimmed].length;
  if (chars > maxChars) throw invalidArgument(`${field} is ${chars} characters; the limit is ${maxChars}`);
  return trimmed;
}

/** num_images: 0 means 1; 1..4 otherwise. */
export function resolveImageCount(n: number): number {
  if (n === 0) return 1;
  if (!Number.isInteger(n) || n < 1 || n > MAX_IMAGES_PER_REQUEST) {
    throw invalidArgument(`num_images must be 1-${MAX_IMAGES_PER_REQUEST}; got ${n}`);
  }
  return n;
}

/** K code ids, each below the codebook size. */
export function checkTokens(tokens: number[], desc: ModelDescription): number[] {
  const k = desc.tokensPerImage;
  if (tokens.length !== k) throw invalidArgument(`tokens must hold ${k} code ids; got ${tokens.length}`);
  const bad = tokens.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= desc.codebookSize);
  if (bad >= 0)
    throw invalidArgument(
      `tokens[${bad}] = ${tokens[bad]} is outside the codebook [0, ${desc.codebookSize})`,
    );
  return tokens;
}

/** keep: 0 = all K, else 1..K. */
export function resolveKeep(keep: number, k: number): number {
  if (keep === 0) return k;
  if (keep < 1 || keep > k) throw invalidArgument(`keep must be 0 (all) or 1-${k}; got ${keep}`);
  return keep;
}

/**
 * The code-index range [from, to) taken from image_b. Both indices 0 means "use amount": the
 * round(amount*K) coarsest codes (indices K-n..K-1), since coarse codes carry layout and colour.
 */
export function resolveBlendRange(from: number, to: number, amount: number, k: number) {
  if (from === 0 && to === 0) {
    if (!Number.isFinite(amount) || amount < 0 || amount > 1) {
      throw invalidArgument(`amount must be in [0, 1]; got ${amount}`);
    }
    const n = Math.round(amount * k);
    return { from: k - n, to: k };
  }
  if (from >= to || to > k)
    throw invalidArgument(`need 0 <= from_index < to_index <= ${k}; got [${from}, ${to})`);
  return { from, to };
}

/**
 * Keep counts for a reveal: every count 1..K when K is small, else `maxFrames` counts spread
 * geometrically (the coarse end changes the picture most, so it gets the most frames).
 */
export function chooseRevealKeeps(k: number, maxFrames: number): number[] {
  if (k <= maxFrames) return Array.from({ length: k }, (_, i) => i + 1);
  const keeps = new Set<number>();
  for (let i = 0; i < maxFrames; i++) keeps.add(Math.max(1, Math.round(k ** (i / (maxFrames - 1)))));
  keeps.add(k);
  return [...keeps].sort((a, b) => a - b);
}
