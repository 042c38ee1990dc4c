/**
 * loadModelsInThread: the bundled package served from the runtime thread answers exactly as the in-process
 * runtime does, forwards the job hooks, and keeps the runtime's errors (class, kind, file, message) across the
 * thread boundary: cancellation, deadlines, bad arguments, broken packages, a closed runtime.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRuntime, ProgressEvent } from '../../../inference/runtime/api.js';
import {
  loadModels,
  loadModelsInThread,
  ModelPackageError,
  RuntimeError,
} from '../../../inference/runtime/index.js';
import { ctx } from './helpers.js';

const modelsDir = fileURLToPath(new URL('../../../models', import.meta.url));
const tinyPackage = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));
const opts = { executionProvider: 'cpu' as const, only: ['shapes-ddt-small'], maxQueue: 8 };

async function kindOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RuntimeError);
  return (err as RuntimeError).kind;
}

describe('the runtime on a thread of its own', () => {
  let threaded: ModelRuntime;
  let inProcess: ModelRuntime;
  beforeAll(async () => {
    threaded = (await loadModelsInThread(modelsDir, opts)).get('shapes-ddt-small')!;
    inProcess = (await loadModels(modelsDir, opts)).get('shapes-ddt-small')!;
  });
  afterAll(async () => {
    await Promise.all([threaded?.close(), inProcess?.close()]);
  });
  const params = (seed: bigint) => ({ ...inProcess.description.defaults, seed });

  it('answers exactly as the in-process runtime, with its hooks called', async () => {
    expect(threaded.description).toEqual(inProcess.description);
    const progress: ProgressEvent[] = [];
    const [a] = await threaded.generate(
      'a red circle to the left of a blue square',
      1,
      params(5n),
      ctx({ previews: true, onProgress: (e) => progress.push(e) }),
    );
    const local: ProgressEvent[] = [];
    const [b] = await inProcess.generate(
      'a red circle to the left of a blue square',
      1,
      params(5n),
      ctx({ previews: true, onProgress: (e) => local.push(e) }),
    );
    expect(a!.tokens).toEqual(b!.tokens);
    expect(a!.plan).toBe(b!.plan);
    expect(a!.seed).toBe(5n);
    expect(Buffer.from(a!.image.data)).toEqual(Buffer.from(b!.image.data));
    expect(progress.some((e) => e.preview?.data.length === a!.image.data.length)).toBe(true);
    // which events a job reports depends on timing (the reporter throttles); their stages do not
    const stages = (events: ProgressEvent[]) => [...new Set(events.map((e) => e.stage))];
    expect(stages(progress)).toEqual(stages(local));
    expect(progress.every((e) => e.fraction >= 0 && e.fraction <= 1)).toBe(true);

    const deltas: string[] = [];
    const caption = await threaded.caption(a!.image, ctx({ onTextDelta: (d) => deltas.push(d) }));
    expect(caption).toBe(await inProcess.caption(a!.image, ctx()));
    expect(deltas.join('')).toBe(caption);
    const question = 'what colour is the square';
    expect(await threaded.ask(a!.image, question, ctx())).toEqual(
      await inProcess.ask(a!.image, question, ctx()),
    );
    expect(await threaded.encode(a!.image, ctx())).toEqual(await inProcess.encode(a!.image, ctx()));
    expect(threaded.stats()).toEqual({ queued: 0, running: 0, maxQueue: 8 });
  });

  it('shows a running job in stats() and cancels it within the call', async () => {
    const controller = new AbortController();
    const job = threaded.generate('two red circles', 4, params(9n), { signal: controller.signal });
    await expect.poll(() => threaded.stats().running, { interval: 5, timeout: 5000 }).toBe(1);
    controller.abort();
    expect(await kindOf(job)).toBe('cancelled');
    // the call rejects at once; its work stops at its next step boundary
    await expect.poll(() => threaded.stats().running, { interval: 5, timeout: 5000 }).toBe(0);
    const aborted = new AbortController();
    aborted.abort();
    expect(await kindOf(threaded.caption(inProcessImage(), { signal: aborted.signal }))).toBe('cancelled');
  });

  it("keeps the runtime's errors for bad arguments and past deadlines", async () => {
    const bad = threaded.generate('a red circle', 0, params(1n), ctx());
    expect(await kindOf(bad)).toBe('invalid_argument');
    await expect(threaded.generate('a red circle', 0, params(1n), ctx())).rejects.toThrow(
      'count must be an integer in [1, 16]',
    );
    const late = threaded.generate('a red circle', 1, params(1n), ctx({ deadline: Date.now() - 1 }));
    expect(await kindOf(late)).toBe('deadline_exceeded');
  });

  function inProcessImage() {
    const size = inProcess.description.imageSize;
    return { width: size, height: size, data: new Uint8Array(size * size * 3).fill(250) };
  }
});

describe('loading and closing on the runtime thread', () => {
  const temps: string[] = [];
  afterAll(async () => {
    await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function tinyModels(version: number): Promise<string> {
    const models = await mkdtemp(join(tmpdir(), 'ddt-thread-'));
    temps.push(models);
    await cp(tinyPackage, join(models, 'tiny'), { recursive: true });
    const file = join(models, 'tiny', 'manifest.json');
    const manifest = JSON.parse(await readFile(file, 'utf8'));
    manifest.format_version = version;
    await writeFile(file, JSON.stringify(manifest));
    return models;
  }

  it('rejects a broken package with the error loadModels gives', async () => {
    const models = await tinyModels(2);
    const cpu = { executionProvider: 'cpu' as const };
    const downs: Error[] = [];
    const inThread = await loadModelsInThread(models, cpu, { onDown: (e) => downs.push(e) }).catch(
      (e: unknown) => e,
    );
    const inProcess = await loadModels(models, cpu).catch((e: unknown) => e);
    expect(inThread).toBeInstanceOf(ModelPackageError);
    expect((inThread as ModelPackageError).file).toBe((inProcess as ModelPackageError).file);
    expect((inThread as Error).message).toBe((inProcess as Error).message);
    expect((inThread as Error).message).toMatch(/manifest\.json: unknown version: format_version 2/);
    await new Promise((r) => setTimeout(r, 200)); // the thread has exited: an expected stop, not a crash
    expect(downs).toEqual([]);
  });

  it('sends plain progress across at most once per progressIntervalMs, the last event before the result', async () => {
    const models = await tinyModels(1);
    const cpu = { executionProvider: 'cpu' as const };
    const threaded = [
      ...(await loadModelsInThread(models, cpu, { progressIntervalMs: 60_000 })).values(),
    ][0]!;
    const local = [...(await loadModels(models, cpu)).values()][0]!;
    try {
      const params = { ...local.description.defaults, seed: 3n };
      const across: ProgressEvent[] = [];
      const here: ProgressEvent[] = [];
      await threaded.generate('a', 1, params, ctx({ onProgress: (e) => across.push(e) }));
      await local.generate('a', 1, params, ctx({ onProgress: (e) => here.push(e) }));
      expect(here.length).toBeGreaterThan(2);
      expect(across).toEqual([here[0], here.at(-1)]);
    } finally {
      await Promise.all([threaded.close(), local.close()]);
    }
  });

  it('reports a thread that stops unexpectedly once, and answers its calls as unavailable', async () => {
    const models = await tinyModels(1);
    const downs: Error[] = [];
    const loaded = await loadModelsInThread(
      models,
      { executionProvider: 'cpu' },
      { onDown: (e) => downs.push(e) },
    );
    const runtime = [...loaded.values()][0]!;
    const size = runtime.description.imageSize;
    const params = { ...runtime.description.defaults, seed: 1n };
    const inFlight = runtime.generate('a', 2, params, ctx());
    // failure injection: stop the thread as a crash would (the proxy's private thread)
    await (
      runtime as unknown as { thread: { worker: { terminate(): Promise<number> } } }
    ).thread.worker.terminate();
    expect(await kindOf(inFlight)).toBe('unavailable');
    expect(
      await kindOf(
        runtime.encode({ width: size, height: size, data: new Uint8Array(size * size * 3) }, ctx()),
      ),
    ).toBe('unavailable');
    expect(downs).toHaveLength(1);
    expect(downs[0]!.message).toMatch(/runtime thread exited with code 1/);
    await runtime.close();
    expect(downs).toHaveLength(1);
  });

  it('refuses calls once closed, as unavailable', async () => {
    const models = await tinyModels(1);
    const runtime = [...(await loadModelsInThread(models, { executionProvider: 'cpu' })).values()][0]!;
    const codes = await runtime.encode(
      {
        width: runtime.description.imageSize,
        height: runtime.description.imageSize,
        data: tinyPixels(runtime),
      },
      ctx(),
    );
    expect(codes).toHaveLength(runtime.description.tokensPerImage);
    await runtime.close();
    expect(await kindOf(runtime.encode({ width: 1, height: 1, data: new Uint8Array(3) }, ctx()))).toBe(
      'unavailable',
    );
  });

  function tinyPixels(runtime: ModelRuntime): Uint8Array {
    return new Uint8Array(runtime.description.imageSize ** 2 * 3).fill(240);
  }
});
