/**
 * The plan of an end-to-end meaning check: the Poisson-binomial tail, the required count at the
 * confidence, the rate of each kind of case from eval.json, and the skip when a check cannot tell a
 * working system from a broken one.
 */
import { describe, expect, it } from 'vitest';
import { atLeastProbabilities, capabilityRate, type PackageEval, planMeaningCheck } from './meaning-plan.js';

const ev: PackageEval = {
  t2i: { single: 1.0, two: 0.3, counting: 0.74 },
  caption_exact: 0.64,
  caption_by_objects: { '1': { n: 41, exact: 0.976 }, '3': { n: 35, exact: 0.571 } },
  vqa: { count: 0.7 },
  edit: { edit_exact: 0.2 },
};

describe('atLeastProbabilities', () => {
  it('is the binomial tail when every probability is the same', () => {
    const tail = atLeastProbabilities([0.5, 0.5, 0.5]);
    expect(tail.map((p) => p * 8)).toEqual([8, 7, 4, 1]);
  });

  it('mixes certain and impossible events exactly', () => {
    expect(atLeastProbabilities([1, 0, 0.25])).toEqual([1, 1, 0.25, 0]);
  });
});

describe('capabilityRate', () => {
  it('reads each kind of case from eval.json', () => {
    expect(capabilityRate(ev, 't2i:counting')).toBe(0.74);
    expect(capabilityRate(ev, 'vqa:count')).toBe(0.7);
    expect(capabilityRate(ev, 'edit')).toBe(0.2);
    expect(capabilityRate(ev, 'caption')).toBe(0.64);
  });

  it('rates unplanned drawing, edits and answers (chat) by their own figures, or the planned ones where unmeasured', () => {
    const planned: PackageEval = {
      ...ev,
      t2i_unplanned: { counting: 0.65 },
      edit_unplanned: { edit_exact: 0.1 },
      vqa_direct: { count: 0.5 },
    };
    expect(capabilityRate(planned, 't2i_unplanned:counting')).toBe(0.65);
    expect(capabilityRate(planned, 'edit_unplanned')).toBe(0.1);
    expect(capabilityRate(planned, 'vqa_direct:count')).toBe(0.5); // chat answers from the image
    expect(capabilityRate(planned, 'vqa:count')).toBe(0.7); // Ask reads its answer off the caption
    expect(capabilityRate(ev, 't2i_unplanned:counting')).toBe(0.74);
    expect(capabilityRate(ev, 'edit_unplanned')).toBe(0.2);
    expect(capabilityRate(ev, 'vqa_direct:count')).toBe(0.7);
  });

  it('rates a caption by its number of objects, or the overall rate where that is not measured', () => {
    expect(capabilityRate(ev, 'caption:3')).toBe(0.571);
    expect(capabilityRate(ev, 'caption:2')).toBe(0.64);
  });

  it('is undefined for what eval.json does not measure', () => {
    expect(capabilityRate(ev, 'vqa:where')).toBeUndefined();
    expect(capabilityRate({}, 'edit')).toBeUndefined();
  });
});

describe('planMeaningCheck', () => {
  it('requires the largest count a working system reaches with the confidence', () => {
    const plan = planMeaningCheck(ev, Array(8).fill('vqa:count'), 0.95);
    // Binomial(8, 0.7): P(>= 3) = 0.989, P(>= 4) = 0.942
    expect(plan).toMatchObject({ run: true, required: 3, of: 8 });
    if (plan.run) expect(plan.summary).toContain('at least 3 of 8 right');
  });

  it('never takes a case as certain', () => {
    const plan = planMeaningCheck(ev, ['t2i:single', 't2i:single'], 0.95);
    // capped at 0.95 each: P(both) = 0.9025 < 0.95, so one of two
    expect(plan).toMatchObject({ run: true, required: 1 });
  });

  it('skips, with the reason, a check whose cases cannot tell a working system from a broken one', () => {
    const plan = planMeaningCheck(ev, ['edit', 'edit', 'edit'], 0.95);
    expect(plan.run).toBe(false);
    if (!plan.run) expect(plan.reason).toMatch(/probability 0\.49 < 0\.95/);
  });

  it('skips when eval.json is missing or does not measure a kind of case', () => {
    expect(planMeaningCheck(null, ['edit'])).toMatchObject({
      run: false,
      reason: expect.stringMatching(/no eval.json/),
    });
    expect(planMeaningCheck(ev, ['vqa:where'])).toMatchObject({
      run: false,
      reason: expect.stringMatching(/does not measure vqa:where/),
    });
  });
});
