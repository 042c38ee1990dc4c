/**
 * LoadOptions.sessionTuning (ORT intra-op threads / spinning) changes only speed: the same package gives the
 * same images and tokens with any setting.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { splitBatchInput } from '../../../inference/runtime/batched-model.js';
import { defaultWorkerLayout, loadModelPackage } from '../../../inference/runtime/index.js';
import { ctx, params, patternImage } from './helpers.js';

const dir = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));

describe('session tuning', () => {
  it('gives identical results with spinning on and one intra-op thread', async () => {
    const plain = await loadModelPackage(dir, { executionProvider: 'cpu' });
    const tuned = await loadModelPackage(dir, {
      executionProvider: 'cpu',
      sessionTuning: { intraOpThreads: 1, spinning: true },
    });
    try {
      const [a, b] = await Promise.all(
        [plain, tuned].map((rt) => rt.generate('a red circle', 2, params({ seed: 5n }), ctx())),
      );
      expect(b!.map((g) => g.tokens)).toEqual(a!.map((g) => g.tokens));
      expect(b!.map((g) => Buffer.from(g.image.data).toString('hex'))).toEqual(
        a!.map((g) => Buffer.from(g.image.data).toString('hex')),
      );
      const img = patternImage(8, 3);
      expect(await tuned.caption(img, ctx())).toBe(await plain.caption(img, ctx()));
    } finally {
      await Promise.all([plain.close(), tuned.close()]);
    }
  });

  it('gives identical results with one worker on ORT threads and batches split over two workers', async () => {
    const one = await loadModelPackage(dir, {
      executionProvider: 'cpu',
      workers: 1,
      sessionTuning: { intraOpThreads: 0 },
    });
    const two = await loadModelPackage(dir, {
      executionProvider: 'cpu',
      workers: 2,
      sessionTuning: { intraOpThreads: 1 },
    });
    try {
      // 3 images: the denoiser batch is split 2 + 1 over the two workers
      const [a, b] = await Promise.all(
        [one, two].map((rt) => rt.generate('a red circle', 3, params({ seed: 9n }), ctx())),
      );
      expect(b!.map((g) => g.tokens)).toEqual(a!.map((g) => g.tokens));
      expect(b!.map((g) => Buffer.from(g.image.data).toString('hex'))).toEqual(
        a!.map((g) => Buffer.from(g.image.data).toString('hex')),
      );
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe('wide denoiser', () => {
  it('gives identical images when a single image runs on the wide session', async () => {
    const narrow = await loadModelPackage(dir, {
      executionProvider: 'cpu',
      workers: 2,
      sessionTuning: { intraOpThreads: 1, wideDenoiserThreads: 0 },
    });
    const wide = await loadModelPackage(dir, {
      executionProvider: 'cpu',
      workers: 2,
      sessionTuning: { intraOpThreads: 1, wideDenoiserThreads: 2 },
    });
    try {
      // one image at a time: every denoiser call has one row and finds the workers idle
      for (const seed of [3n, 4n]) {
        const a = await narrow.generate('a red circle', 1, params({ seed }), ctx());
        const b = await wide.generate('a red circle', 1, params({ seed }), ctx());
        expect(b[0]!.tokens).toEqual(a[0]!.tokens);
        expect(Buffer.from(b[0]!.image.data).toString('hex')).toBe(
          Buffer.from(a[0]!.image.data).toString('hex'),
        );
      }
    } finally {
      await Promise.all([narrow.close(), wide.close()]);
    }
  });
});

/** Niceness of every thread of this process, by thread id (Linux /proc). */
function threadNiceness(): Map<number, number> {
  return new Map(
    readdirSync('/proc/self/task').map((tid) => {
      // fields after the command name (which may contain spaces): state is 3rd, nice is 19th
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return [Number(tid), Number(fields[16])];
    }),
  );
}

describe.runIf(process.platform === 'linux')('worker niceness', () => {
  it('lowers the priority of the model worker threads and of no other thread', async () => {
    const before = threadNiceness();
    const rt = await loadModelPackage(dir, {
      executionProvider: 'cpu',
      workers: 2,
      sessionTuning: { niceness: 7, wideDenoiserThreads: 2 },
    });
    try {
      const after = threadNiceness();
      const niced = [...after].filter(([, n]) => n === 7).map(([tid]) => tid);
      // two worker threads, plus the ORT pool thread the wide denoiser session started from one of them
      expect(niced.length).toBeGreaterThanOrEqual(2);
      for (const tid of niced) expect(before.has(tid)).toBe(false); // only threads the workers made
      expect(after.get(process.pid)).toBe(before.get(process.pid)); // the main thread is untouched
      // and the model still works
      expect((await rt.generate('a red circle', 1, params({ seed: 1n }), ctx())).length).toBe(1);
    } finally {
      await rt.close();
    }
  });
});

describe('worker layout', () => {
  it('shares the cores between two workers on CPU and uses one worker on a GPU', () => {
    expect(defaultWorkerLayout('cpu', 2)).toEqual({
      workers: 2,
      intraOpThreads: 1,
      wideDenoiserThreads: 2,
      niceness: 10,
    });
    expect(defaultWorkerLayout('cpu', 1)).toEqual({ workers: 1, intraOpThreads: 1, niceness: 10 });
    expect(defaultWorkerLayout('cpu', 16)).toEqual({
      workers: 2,
      intraOpThreads: 8,
      wideDenoiserThreads: 16,
      niceness: 10,
    });
    expect(defaultWorkerLayout('cuda', 16)).toEqual({ workers: 1 });
  });

  it('splits a denoiser batch into near-equal row chunks that keep every row', () => {
    const B = 5;
    const K = 2;
    const px = 3;
    const input = {
      xT: Float32Array.from({ length: B * px }, (_, i) => i),
      t: Float32Array.from({ length: B }, (_, i) => i / 10),
      codes: BigInt64Array.from({ length: B * K }, (_, i) => BigInt(i)),
      mask: Float32Array.from({ length: B * K }, (_, i) => i % 2),
      batch: B,
    };
    const parts = splitBatchInput(input, 2);
    expect(parts.map((p) => p.batch)).toEqual([3, 2]);
    expect(parts.map((p) => p.xT.length)).toEqual([9, 6]);
    expect(Array.from(parts[1]!.t)).toEqual([0.3, 0.4].map((v) => Math.fround(v)));
    expect(parts.flatMap((p) => Array.from(p.codes))).toEqual(Array.from(input.codes));
    expect(splitBatchInput(input, 8)).toHaveLength(5);
    expect(splitBatchInput({ ...input, batch: 1, xT: input.xT.slice(0, 3) }, 2)).toHaveLength(1);
  });
});
