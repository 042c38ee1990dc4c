/** TLS with a self-signed certificate, and RESOURCE_EXHAUSTED when the runtime queue is full. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { collectImageResult, createInferenceClient } from '../../../inference/client/client.js';
import { FakeRuntime } from './fake-runtime.js';
import { codeOf, drain, startTestServer } from './helpers.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasOpenssl())('TLS', () => {
  it('serves over TLS to a client trusting the certificate, and not to a plaintext client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddt-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const t = await startTestServer(new Map([['fake', new FakeRuntime()]]), { TLS_CERT: cert, TLS_KEY: key });
    const secure = createInferenceClient({ address: `127.0.0.1:${t.server.port}`, tls: { caPath: cert } });
    try {
      await t.server.ready;
      expect((await secure.getModelInfo()).default_model).toBe('fake');
      expect(await codeOf(t.client.getModelInfo({ timeoutMs: 2000 }))).toBe(grpc.status.UNAVAILABLE);
    } finally {
      secure.close();
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('queue limits', () => {
  it('refuses work with RESOURCE_EXHAUSTED when the queue is full, then recovers', async () => {
    const t = await startTestServer(
      new Map([['fake', new FakeRuntime({ maxQueue: 1, steps: 20, stepMs: 5 })]]),
    );
    try {
      const running = drain(t.client.generate({ prompt: 'one' }));
      await new Promise((r) => setTimeout(r, 20));
      const waiting = drain(t.client.generate({ prompt: 'two' }));
      await new Promise((r) => setTimeout(r, 20));
      const refused = await codeOf(drain(t.client.generate({ prompt: 'three' })));
      expect(refused).toBe(grpc.status.RESOURCE_EXHAUSTED);
      await Promise.all([running, waiting]);
      expect((await collectImageResult(t.client.generate({ prompt: 'four' }))).images).toHaveLength(1);
    } finally {
      await t.stop();
    }
  });
});
