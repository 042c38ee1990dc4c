import { describe, expect, it } from 'vitest';
import { JobControl } from '../../../inference/runtime/job-control.js';
import { logSoftmaxAt, ScoreStream } from '../../../inference/runtime/token-streams.js';

const job = () => new JobControl({ signal: new AbortController().signal });

describe('logSoftmaxAt', () => {
  it('normalises over the allowed ids only', () => {
    const logits = new Float32Array([5, 1, 2, 3]);
    const allowed = new Uint8Array([0, 1, 1, 1]);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expect(logSoftmaxAt(logits, allowed, 3)).toBeCloseTo(3 - Math.log(z), 12);
    expect(logSoftmaxAt(logits, allowed, 1)).toBeCloseTo(1 - Math.log(z), 12);
  });
});

describe('ScoreStream', () => {
  it('feeds the forced ids, sums their log-probabilities and stops after the last', () => {
    const allowed = new Uint8Array([0, 1, 1]);
    const control = job();
    const s = new ScoreStream({ row: [0, 9], forced: [2, 1, 2], visualMask: allowed, job: control });
    expect(s.rows).toEqual([[0, 9]]);
    const steps = [new Float32Array([0, 0, 1]), new Float32Array([0, 2, 0]), new Float32Array([0, 0, 0])];
    // each call returns the id it scored, to be fed next, except the last
    expect(s.advance([steps[0]!])).toBe(2);
    expect(s.advance([steps[1]!])).toBe(1);
    expect(s.advance([steps[2]!])).toBeNull();
    const expected = 1 - Math.log(1 + Math.E) + (2 - Math.log(Math.exp(2) + 1)) + (0 - Math.log(2));
    expect(s.logProbability).toBeCloseTo(expected, 12);
    expect(control.steps).toBe(3);
  });

  it('stops when its request is cancelled', () => {
    const ac = new AbortController();
    const control = new JobControl({ signal: ac.signal });
    const s = new ScoreStream({ row: [0], forced: [1, 1], visualMask: new Uint8Array([0, 1]), job: control });
    ac.abort();
    expect(s.stopReason()).toBeDefined();
    expect(() => s.advance([new Float32Array([0, 0])])).toThrow(/cancelled/);
  });
});
