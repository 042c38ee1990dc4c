/** Configuration: defaults, validation messages naming the variable, freezing. */
import { describe, expect, it } from 'vitest';
import { loadClientConfig, loadServerConfig } from '../../../inference/config.js';

describe('server config', () => {
  it('has defaults for everything and treats empty values as unset', () => {
    const c = loadServerConfig({ MODELS_DIR: '', METRICS_LISTEN: '' });
    expect(c.listen).toBe('127.0.0.1:50051');
    expect(c.modelsDir).toMatch(/models$/);
    expect(c.metricsListen).toBeUndefined();
    expect(c.executionProvider).toBe('cpu');
    expect(c.limits).toEqual({
      maxImageBytes: 20 * 1024 * 1024,
      maxImagePixels: 40_000_000,
      maxPromptChars: 1000,
      maxChatImages: 4,
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.limits)).toBe(true);
  });

  it('names the bad variable', () => {
    expect(() => loadServerConfig({ EXECUTION_PROVIDER: 'tpu' })).toThrow(/EXECUTION_PROVIDER/);
    expect(() => loadServerConfig({ MAX_QUEUE: 'many' })).toThrow(/MAX_QUEUE/);
    expect(() => loadServerConfig({ INFERENCE_LISTEN: 'localhost' })).toThrow(/INFERENCE_LISTEN.*host:port/);
    expect(() => loadServerConfig({ TLS_CERT: '/x.pem' })).toThrow(/TLS_CERT and TLS_KEY/);
    expect(() => loadServerConfig({ MODEL_WORKER_NICE: '20' })).toThrow(/MODEL_WORKER_NICE/);
    expect(() => loadServerConfig({ MODEL_WORKER_NICE: '-5' })).toThrow(/MODEL_WORKER_NICE/);
  });

  it('leaves the worker niceness to the runtime unless it is set (0 keeps the priority)', () => {
    expect(loadServerConfig({}).workerNiceness).toBeUndefined();
    expect(loadServerConfig({ MODEL_WORKER_NICE: '' }).workerNiceness).toBeUndefined();
    expect(loadServerConfig({ MODEL_WORKER_NICE: '0' }).workerNiceness).toBe(0);
    expect(loadServerConfig({ MODEL_WORKER_NICE: '15' }).workerNiceness).toBe(15);
  });

  it('runs the model runtime on a thread of its own unless RUNTIME_THREAD is 0', () => {
    expect(loadServerConfig({}).runtimeThread).toBe(true);
    expect(loadServerConfig({ RUNTIME_THREAD: '' }).runtimeThread).toBe(true);
    expect(loadServerConfig({ RUNTIME_THREAD: '0' }).runtimeThread).toBe(false);
    expect(() => loadServerConfig({ RUNTIME_THREAD: '2' })).toThrow(/RUNTIME_THREAD/);
  });

  it('reads TLS and token', () => {
    const c = loadServerConfig({ TLS_CERT: '/c.pem', TLS_KEY: '/k.pem', INFERENCE_TOKEN: ' t ' });
    expect(c.tls).toEqual({ certPath: '/c.pem', keyPath: '/k.pem' });
    expect(c.token).toBe('t');
  });
});

describe('client config', () => {
  it('defaults to plaintext on 127.0.0.1:50051 and turns TLS on with a CA file', () => {
    expect(loadClientConfig({})).toEqual({ address: '127.0.0.1:50051', token: undefined, tls: undefined });
    expect(loadClientConfig({ INFERENCE_TLS_CA: '/ca.pem' }).tls).toEqual({ caPath: '/ca.pem' });
  });
});
