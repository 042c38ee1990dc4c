/**
 * Replaying a runtime's graph calls on direct ORT sessions (bench/lib/replay.ts), for the one-step renderer that
 * the bundled package decodes with: the stages suite profiles it only if it can be replayed and resized.
 */
import { describe, expect, it } from 'vitest';
import { openSession } from '../../../bench/lib/ort-micro.js';
import { describeCall, replayFeeds, resizeBatch } from '../../../bench/lib/replay.js';
import { readManifest } from '../../../inference/runtime/manifest.js';
import type { WorkerRequest } from '../../../inference/runtime/worker-protocol.js';

const DIR = 'models/shapes-ddt-small';

describe('replaying a renderer call', () => {
  it('resizes it by repeating rows and runs it on the package renderer graph', async () => {
    const manifest = await readManifest(DIR);
    const K = manifest.tokens.per_image;
    const codes = BigInt64Array.from({ length: 2 * K }, (_, i) => BigInt((i * 37) % 512));
    const mask = new Float32Array(2 * K).fill(1);
    mask.fill(0, K, K + K / 2); // the second row keeps only its coarsest half
    const call: WorkerRequest = { op: 'render', codes, mask, batch: 2 };
    expect(describeCall(call)).toBe(`codes [2, ${K}]`);

    const wide = resizeBatch(call, 4);
    expect(wide).toMatchObject({ op: 'render', batch: 4 });
    const rows = wide as typeof call;
    expect(Array.from(rows.codes.subarray(2 * K, 3 * K))).toEqual(Array.from(codes.subarray(0, K)));
    expect(Array.from(rows.mask.subarray(3 * K))).toEqual(Array.from(mask.subarray(K)));

    const { file, feeds } = replayFeeds(DIR, manifest, wide);
    expect(file).toBe(`${DIR}/${manifest.graphs.renderer?.file}`);
    const session = await openSession(file);
    try {
      const out = await session.run(feeds());
      const x0 = out[manifest.graphs.renderer?.outputs.x0 ?? 'x0'];
      const side = manifest.image.size;
      expect(x0?.dims).toEqual([4, 3, side, side]);
      const data = x0?.data as Float32Array;
      const image = 3 * side * side;
      // repeated rows decode alike, other rows (other codes, half of them masked) differently
      expect(Array.from(data.subarray(2 * image, 3 * image))).toEqual(Array.from(data.subarray(0, image)));
      expect(Array.from(data.subarray(image, 2 * image))).not.toEqual(Array.from(data.subarray(0, image)));
    } finally {
      await session.release();
    }
  });
});
