/**
 * Records every model-worker call (op, start, end, a copy of its inputs) by wrapping
 * WorkerClient.prototype.call in this process. Bench-only instrumentation: the runtime is not changed.
 */

import { WorkerClient } from '../../inference/runtime/worker-client.js';
import type { WorkerRequest } from '../../inference/runtime/worker-protocol.js';
import { now } from './stats.js';

export interface CallRecord {
  op: WorkerRequest['op'];
  start: number;
  end: number;
  request: WorkerRequest; // inputs copied before the call (typed arrays may be transferred)
}

type Call = (this: WorkerClient, request: WorkerRequest, transfer?: ArrayBuffer[]) => Promise<unknown>;

let installed: Call | undefined;
let sink: CallRecord[] | undefined;

/** Starts recording into a fresh list (installs the wrapper once). */
export function recordWorkerCalls(): CallRecord[] {
  const proto = WorkerClient.prototype as unknown as { call: Call };
  if (!installed) {
    const original = proto.call;
    installed = original;
    proto.call = function (this: WorkerClient, request: WorkerRequest, transfer?: ArrayBuffer[]) {
      const list = sink;
      // llmRelease is fire-and-forget (not on the request's critical path)
      if (!list || request.op === 'load' || request.op === 'llmRelease') {
        return original.call(this, request, transfer);
      }
      const copy = structuredClone(request);
      const start = now();
      const p = original.call(this, request, transfer);
      p.then(
        () => list.push({ op: request.op, start, end: now(), request: copy }),
        () => {},
      );
      return p;
    };
  }
  sink = [];
  return sink;
}

export function stopRecording(): void {
  sink = undefined;
}

export interface Timeline {
  totalMs: number;
  /** Per op: calls, summed round-trip ms (post -> reply, as the main thread sees it). */
  ops: Record<string, { calls: number; ms: number }>;
  /** Main-thread time between calls, charged to the op that follows it (sampling before a step, ...). */
  gapsBefore: Record<string, number>;
  /** After the last call: pixels out, result assembly. */
  tailMs: number;
  /** Before the first call: request validation, tokenizing, queueing. */
  headMs: number;
}

/** Splits one request's wall time [start, end] into worker round trips and main-thread gaps (sequential calls). */
export function timeline(records: CallRecord[], start: number, end: number): Timeline {
  const sorted = [...records].sort((a, b) => a.start - b.start);
  const ops: Timeline['ops'] = {};
  const gapsBefore: Record<string, number> = {};
  let cursor = start;
  let headMs = 0;
  sorted.forEach((r, i) => {
    const gap = Math.max(0, r.start - cursor);
    if (i === 0) headMs = gap;
    else gapsBefore[r.op] = (gapsBefore[r.op] ?? 0) + gap;
    const o = ops[r.op] ?? { calls: 0, ms: 0 };
    ops[r.op] = o;
    o.calls++;
    o.ms += r.end - Math.max(r.start, cursor);
    cursor = Math.max(cursor, r.end);
  });
  return { totalMs: end - start, ops, gapsBefore, tailMs: Math.max(0, end - cursor), headMs };
}
