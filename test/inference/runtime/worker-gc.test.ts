/** worker-gc.ts: a concurrent major GC at most once per interval, with V8's gc() exposed at run time. */
import { describe, expect, it } from 'vitest';
import { createGcHint } from '../../../inference/runtime/worker-gc.js';

describe('gc hint', () => {
  it('starts a concurrent major collection at most once per interval', () => {
    const calls: unknown[] = [];
    let clock = 0;
    const hint = createGcHint(
      1000,
      (o) => calls.push(o),
      () => clock,
    );
    expect(hint()).toBe(true);
    clock = 999;
    expect(hint()).toBe(false);
    clock = 1000;
    expect(hint()).toBe(true);
    expect(calls).toEqual([
      { type: 'major', execution: 'async' },
      { type: 'major', execution: 'async' },
    ]);
  });

  it("exposes V8's gc without --expose-gc and lets it run", () => {
    const hint = createGcHint(0);
    expect(hint()).toBe(true); // false would mean no gc function was found
    expect(hint()).toBe(true);
  });
});
