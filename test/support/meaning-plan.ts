/**
 * How many answers of an end-to-end meaning check must be right, from the bundled model's own held-out
 * evaluation (eval.json).
 *
 * The end-to-end checks test the system, not the model: a request that crosses Discord, the bot, gRPC
 * and the runtime must come back as right as the model is on its own. So each case of a check carries
 * the probability that the model gets it right (its eval.json rate for that kind of case), and the check
 * demands the largest number of right answers that a working system reaches with probability
 * >= CONFIDENCE (Poisson-binomial tail). A broken path (mangled pixels, wrong token order, a lost
 * instruction) gets almost nothing right and fails. Whether the model is good enough is the model issue's
 * acceptance (training/eval.py, MODEL_CARD.md), not this.
 *
 * A check whose cases cannot tell a working system from a broken one at that confidence (even one right
 * answer is less likely than CONFIDENCE) is skipped with the reason, never counted as passed.
 */
import { existsSync, readFileSync } from 'node:fs';

export const CONFIDENCE = 0.95;
/** No case is taken as certain: a rate of 1.0 over a few held-out compositions says little about others. */
export const MAX_CASE_RATE = 0.95;

/** A kind of case, named by the eval.json figure that rates it. */
export type Capability =
  | `t2i:${'single' | 'two' | 'counting' | 'colour' | 'position' | 'relation'}`
  // drawn without a plan (the chat model drawing directly): eval.json's t2i_unplanned, else t2i
  | `t2i_unplanned:${'single' | 'two' | 'counting' | 'colour' | 'position' | 'relation'}`
  | 'caption'
  | `caption:${1 | 2 | 3 | 4}`
  | `vqa:${'count' | 'colour' | 'shape' | 'where' | 'exists'}`
  // answered from the image (the chat model answering directly): eval.json's vqa_direct, else vqa
  | `vqa_direct:${'count' | 'colour' | 'shape' | 'where' | 'exists'}`
  | 'edit'
  // an edit without a plan (the chat model editing directly): eval.json's edit_unplanned, else edit
  | 'edit_unplanned';

export interface PackageEval {
  t2i?: Record<string, number>;
  t2i_unplanned?: Record<string, number>;
  caption_exact?: number;
  caption_by_objects?: Record<string, { n: number; exact: number }>;
  vqa?: Record<string, number>;
  vqa_direct?: Record<string, number>;
  edit?: { edit_exact: number };
  edit_unplanned?: { edit_exact: number };
}

export function readPackageEval(file: string): PackageEval | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PackageEval) : null;
}

/** The eval.json rate of one kind of case, or undefined when eval.json does not measure it. */
export function capabilityRate(ev: PackageEval, c: Capability): number | undefined {
  const [kind, key] = c.split(':') as [string, string | undefined];
  if (kind === 't2i') return ev.t2i?.[key!];
  if (kind === 't2i_unplanned') return ev.t2i_unplanned?.[key!] ?? ev.t2i?.[key!];
  if (kind === 'vqa') return ev.vqa?.[key!];
  if (kind === 'vqa_direct') return ev.vqa_direct?.[key!] ?? ev.vqa?.[key!];
  if (kind === 'caption')
    return (key === undefined ? undefined : ev.caption_by_objects?.[key]?.exact) ?? ev.caption_exact;
  if (kind === 'edit_unplanned') return ev.edit_unplanned?.edit_exact ?? ev.edit?.edit_exact;
  return ev.edit?.edit_exact;
}

/** P(at least k of independent events with these probabilities happen), for k = 0..n. */
export function atLeastProbabilities(ps: number[]): number[] {
  // exact[j] = P(exactly j so far)
  let exact = [1];
  for (const p of ps) {
    const next = new Array<number>(exact.length + 1).fill(0);
    exact.forEach((q, j) => {
      next[j]! += q * (1 - p);
      next[j + 1]! += q * p;
    });
    exact = next;
  }
  const tail = new Array<number>(exact.length).fill(0);
  for (let k = exact.length - 1; k >= 0; k--) tail[k] = exact[k]! + (tail[k + 1] ?? 0);
  return tail;
}

export type MeaningPlan =
  | { run: true; required: number; of: number; expected: number; rates: number[]; summary: string }
  | { run: false; reason: string };

/** The plan for a check whose cases are of these kinds. */
export function planMeaningCheck(
  ev: PackageEval | null,
  cases: Capability[],
  confidence = CONFIDENCE,
): MeaningPlan {
  if (!ev) return { run: false, reason: 'the bundled package has no eval.json (run training/eval.py)' };
  const missing = cases.filter((c) => capabilityRate(ev, c) === undefined);
  if (missing.length)
    return { run: false, reason: `eval.json does not measure ${[...new Set(missing)].join(', ')}` };
  const rates = cases.map((c) => Math.min(capabilityRate(ev, c)!, MAX_CASE_RATE));
  const tail = atLeastProbabilities(rates);
  let required = 0;
  for (let k = 1; k < tail.length; k++) if (tail[k]! >= confidence) required = k;
  const expected = rates.reduce((a, b) => a + b, 0);
  // every case of a kind has the same rate, so the first one's stands for the kind
  const byKind = new Map<Capability, { n: number; rate: number }>();
  cases.forEach((c, i) => {
    const kind = byKind.get(c);
    if (kind) kind.n++;
    else byKind.set(c, { n: 1, rate: rates[i]! });
  });
  const kinds = [...byKind].map(([c, { n, rate }]) => `${n} x ${c} ${rate.toFixed(2)}`).join(', ');
  if (required === 0)
    return {
      run: false,
      reason:
        `by eval.json even one right answer of ${cases.length} has probability ${tail[1]!.toFixed(2)} < ${confidence} ` +
        `(${kinds}), so the check could not tell a working system from a broken one`,
    };
  const summary =
    `at least ${required} of ${cases.length} right: a working system gets that with probability ` +
    `${tail[required]!.toFixed(3)} by eval.json (${kinds}; expected ${expected.toFixed(1)})`;
  return { run: true, required, of: cases.length, expected, rates, summary };
}
