/** ProgressGate: one plain progress event per interval, the newest held one sent before anything that follows. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProgressEvent } from '../../../inference/runtime/api.js';
import { ProgressGate } from '../../../inference/runtime/progress-gate.js';

const event = (step: number, preview = false): ProgressEvent => ({
  fraction: step / 10,
  stage: 'tokens',
  step,
  totalSteps: 10,
  ...(preview ? { preview: { width: 1, height: 1, data: new Uint8Array(3) } } : {}),
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ProgressGate', () => {
  it('sends the first event at once and holds only the newest of a burst', () => {
    vi.useFakeTimers();
    const sent: number[] = [];
    const gate = new ProgressGate(100, (e) => sent.push(e.step));
    for (let step = 1; step <= 5; step++) gate.offer(event(step));
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([1, 5]);
    gate.offer(event(6));
    gate.release(); // something else of the job follows: the held event goes first
    expect(sent).toEqual([1, 5, 6]);
    gate.release();
    expect(sent).toEqual([1, 5, 6]);
  });

  it('never holds a preview, which supersedes a held event', () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    const gate = new ProgressGate(100, (e) => sent.push(`${e.step}${e.preview ? '*' : ''}`));
    gate.offer(event(1));
    gate.offer(event(2));
    gate.offer(event(3, true));
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual(['1', '3*']);
  });

  it('sends every event with interval 0', () => {
    const sent: number[] = [];
    const gate = new ProgressGate(0, (e) => sent.push(e.step));
    for (let step = 1; step <= 4; step++) gate.offer(event(step));
    expect(sent).toEqual([1, 2, 3, 4]);
  });
});
