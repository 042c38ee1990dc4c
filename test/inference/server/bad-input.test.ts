/** The bad-input table against the fake runtime; afterwards the server is healthy and serves normally. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImageResult } from '../../../inference/client/client.js';
import { type BadInputCase, buildBadInputCases } from './bad-input-cases.js';
import { FakeRuntime } from './fake-runtime.js';
import { startTestServer, type TestServer } from './helpers.js';

describe('bad input (fake runtime)', async () => {
  let t: TestServer;
  const env = { MAX_IMAGE_BYTES: String(2 * 1024 * 1024) };
  const cases: BadInputCase[] = await buildBadInputCases((await import('./helpers.js')).testConfig(env));
  beforeAll(async () => {
    t = await startTestServer(new Map([['fake', new FakeRuntime({ steps: 20, stepMs: 5 })]]), env);
    await t.server.ready;
  });
  afterAll(() => t.stop());

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    let outcome: { code: number | 'ok'; details?: string };
    try {
      await c.call(t.client);
      outcome = { code: 'ok' };
    } catch (err) {
      outcome = err as { code: number; details: string };
    }
    expect(outcome.code).toBe(c.expect);
    if (c.message) expect(outcome.details).toMatch(c.message);
  });

  it('is still SERVING and answers a normal request afterwards', async () => {
    expect(await t.client.checkHealth('')).toBe('SERVING');
    const result = await collectImageResult(t.client.generate({ prompt: 'two red circles', seed: '1' }));
    expect(result.images).toHaveLength(1);
  });
});
