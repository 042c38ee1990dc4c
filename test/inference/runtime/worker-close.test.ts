/**
 * Closing a runtime while model calls are in flight: close waits for the workers' answers (terminating a
 * thread inside session.run aborts the process) but returns once they arrive, well inside the 5 s grace,
 * and the job ends instead of hanging.
 */
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { loadModelPackage } from '../../../inference/runtime/index.js';
import { ctx, params } from './helpers.js';

const dir = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));

it('close() during a Generate returns promptly, the process survives and the job ends', async () => {
  const rt = await loadModelPackage(dir, { executionProvider: 'cpu', maxQueue: 4, maxBatch: 4 });
  const job = rt.generate('a red circle', 4, params({ steps: 20 }), ctx());
  job.catch(() => {}); // it may fail once the workers are gone; asserted below
  await new Promise((r) => setTimeout(r, 20)); // let the first model calls reach the workers
  const start = performance.now();
  await rt.close();
  expect(performance.now() - start).toBeLessThan(2000); // the grace is 5 s
  // the job ends either way (finished before close, or refused by the stopped workers): it never hangs
  const outcome = await Promise.race([
    job.then(
      () => 'done',
      (e: Error) => `error: ${e.message}`,
    ),
    new Promise((r) => setTimeout(() => r('hung'), 5000)),
  ]);
  expect(outcome).not.toBe('hung');
});
