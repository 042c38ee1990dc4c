/** Closed-loop load: N clients, each sending its next request as soon as the previous one finished. */
import { collectImageResult, type InferenceClient } from '../../inference/client/client.js';
import type { ImageJobEvent } from '../../inference/protocol/types.js';
import { PROMPTS } from './inputs.js';
import { now, sleep } from './stats.js';

export interface RequestTiming {
  start: number;
  end: number;
  ok: boolean;
  error?: string;
  firstEventMs?: number; // any stream event (queued or progress)
  firstProgressMs?: number;
  firstPreviewMs?: number;
}

export type Op = (client: InferenceClient, i: number) => Promise<Omit<RequestTiming, 'start' | 'end' | 'ok'>>;

export function generateOp(opts: { previews?: boolean } = {}): Op {
  return async (client, i) => {
    const start = now();
    const t: Omit<RequestTiming, 'start' | 'end' | 'ok'> = {};
    await collectImageResult(
      client.generate({
        prompt: PROMPTS[i % PROMPTS.length]!,
        num_images: 1,
        seed: String(1000 + i),
        previews: opts.previews ?? false,
      }),
      (e: ImageJobEvent) => {
        t.firstEventMs ??= now() - start;
        if (e.event === 'progress') {
          t.firstProgressMs ??= now() - start;
          if (e.progress.preview) t.firstPreviewMs ??= now() - start;
        }
      },
    );
    return t;
  };
}

export function captionOp(png: Buffer): Op {
  return async (client) => {
    await client.caption({ image: { data: png, mime_type: 'image/png' } });
    return {};
  };
}

/** Runs `clients` loops until `seconds` have passed (each finishes its request in flight). */
export async function closedLoop(
  clients: InferenceClient[],
  op: Op,
  seconds: number,
  counter = { i: 0 },
): Promise<{ timings: RequestTiming[]; elapsedMs: number }> {
  const timings: RequestTiming[] = [];
  const start = now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    clients.map(async (client) => {
      while (now() < deadline) {
        const s = now();
        try {
          const extra = await op(client, counter.i++);
          timings.push({ start: s, end: now(), ok: true, ...extra });
        } catch (err) {
          timings.push({ start: s, end: now(), ok: false, error: (err as Error).message });
        }
      }
    }),
  );
  return { timings, elapsedMs: now() - start };
}

/** Sends `total` requests with at most `concurrency` in flight; calls `onDone(k)` after the k-th completion. */
export async function fixedCount(
  client: InferenceClient,
  ops: Op[],
  total: number,
  concurrency: number,
  onDone?: (completed: number) => void,
): Promise<RequestTiming[]> {
  const timings: RequestTiming[] = [];
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const s = now();
        try {
          const extra = await ops[i % ops.length]!(client, i);
          timings.push({ start: s, end: now(), ok: true, ...extra });
        } catch (err) {
          timings.push({ start: s, end: now(), ok: false, error: (err as Error).message });
        }
        onDone?.(++done);
      }
    }),
  );
  return timings;
}

/** Health-check latencies (ms): one check, then a pause of intervalMs, until `until()` says stop. */
export async function probeHealth(
  ask: () => Promise<unknown>,
  until: () => boolean,
  intervalMs: number,
): Promise<number[]> {
  const lat: number[] = [];
  while (!until()) {
    const s = now();
    await ask();
    lat.push(now() - s);
    await sleep(intervalMs);
  }
  return lat;
}
