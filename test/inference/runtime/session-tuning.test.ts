/**
 * LoadOptions.sessionTuning (ORT intra-op threads / spinning) changes only speed: the same package gives the
 * same images and tokens with any setting.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModelPackage } from '../../../inference/runtime/index.js';
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
});
