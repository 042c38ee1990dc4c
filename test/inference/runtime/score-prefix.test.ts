/**
 * Scoring rows after a shared prefix (its KV cache computed once and repeated for the rows) gives the scores
 * of the whole rows, in a real model worker, for both KV-cache conventions: the tiny fixture package
 * (append) and the bundled one (buffer).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchedModel } from '../../../inference/runtime/batched-model.js';
import { readManifest, sampleShape } from '../../../inference/runtime/manifest.js';
import { WorkerBackend } from '../../../inference/runtime/model-backend.js';
import { WorkerClient } from '../../../inference/runtime/worker-client.js';

const packages = {
  'tiny fixture (append cache)': fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url)),
  'shapes-ddt-small (buffer cache)': fileURLToPath(
    new URL('../../../models/shapes-ddt-small', import.meta.url),
  ),
};

const workers: WorkerClient[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

async function modelOf(dir: string) {
  const manifest = await readManifest(dir);
  const pair = [new WorkerClient(0), new WorkerClient(1)];
  workers.push(...pair);
  await Promise.all(
    pair.map((w) =>
      w.call({
        op: 'load',
        dir,
        provider: 'cpu',
        dtype: manifest.dtype,
        graphs: manifest.graphs,
        latent: manifest.latent,
        sampleShape: sampleShape(manifest),
        tuning: { intraOpThreads: 1 },
      }),
    ),
  );
  const model = new BatchedModel(new WorkerBackend(pair), { maxBatch: 8, perImage: 16, padId: 0 });
  return { model, textSize: manifest.vocab.text_size };
}

describe.each(Object.entries(packages))('scores after a shared prefix: %s', (_name, dir) => {
  it.skipIf(!existsSync(`${dir}/manifest.json`))('equals scoring the whole rows', async () => {
    const { model, textSize } = await modelOf(dir);
    const ids = (n: number, from: number) => Array.from({ length: n }, (_, j) => 3 + ((from + 7 * j) % 40));
    const prefix = ids(11, 1);
    const tails = [ids(6, 2), ids(3, 5), ids(9, 8), ids(1, 4), ids(5, 9)]; // uneven: left padding after the prefix
    // each row its own scored span (as captionScores asks), all coalesced into one pass per worker
    const [whole, after] = await Promise.all([
      Promise.all(tails.map((t) => model.score([[...prefix, ...t]], t.length, 0, textSize))),
      Promise.all(tails.map((t) => model.score([t], t.length, 0, textSize, prefix))),
    ]);
    expect(after.flat()).toHaveLength(tails.length);
    after.flat().forEach((s, i) => {
      expect(s).toBeLessThan(0);
      expect(s).toBeCloseTo(whole.flat()[i]!, 3);
    });
    // and the prefix matters: the same rows without it score differently
    const bare = await Promise.all(
      tails.map((t) => model.score([[prefix.at(-1)!, ...t]], t.length, 0, textSize)),
    );
    expect(bare.flat().some((s, i) => Math.abs(s - whole.flat()[i]!) > 1e-2)).toBe(true);
  });
});
