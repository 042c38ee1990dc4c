/**
 * A collection hint for model workers. Every LLM step returns a new copy of the whole KV cache (ORT's
 * present.* outputs), so a worker makes megabytes of garbage per step, all of it ArrayBuffer backing stores
 * outside its small JS heap (~8 MB). V8 collects those only when another ~64 MB of them has piled up, and
 * since their sizes change at every step, the freed blocks fragment the allocator: the server's RSS grew by
 * 8-13 % over 1,000 requests before levelling off (BENCHMARKS.md, memory). Starting a concurrent major GC
 * when a batch ends, at most once per interval, frees them while they are few: growth 1.7 %, same
 * throughput. A blocking gc() after every batch did as well on memory but took ~15 ms a time.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

/** V8's gc(), exposed for this isolate if the process was not started with --expose-gc. */
function exposeGc(): GcFunction | undefined {
  const given = (globalThis as { gc?: GcFunction }).gc;
  if (given) return given;
  try {
    setFlagsFromString('--expose-gc'); // takes effect for contexts created from now on
    return runInNewContext('gc') as GcFunction;
  } catch {
    return undefined;
  }
}

/** Returns a function that starts a concurrent major GC unless one started less than minIntervalMs ago. */
export function createGcHint(
  minIntervalMs: number,
  gc: GcFunction | undefined = exposeGc(),
  now: () => number = () => performance.now(),
): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    if (!gc || now() - last < minIntervalMs) return false;
    last = now();
    gc({ type: 'major', execution: 'async' });
    return true;
  };
}
