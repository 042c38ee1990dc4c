/** Contract tests: the real GrpcInferenceClient against small ddt.v1 servers on port 0. */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPool, parseAddresses } from '../../../bot/inference/address-pool.js';
import { type ImageJobEvent, InferenceError } from '../../../bot/inference/client.js';
import { GrpcInferenceClient } from '../../../bot/inference/grpc-client.js';

const definition = protoLoader.loadSync('proto/ddt/v1/inference.proto', {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const proto = grpc.loadPackageDefinition(definition) as unknown as {
  ddt: { v1: { Inference: grpc.ServiceClientConstructor } };
};

interface FakeServer {
  address: string;
  server: grpc.Server;
  health: HealthImplementation;
  calls: { method: string; auth?: string; bytes?: number }[];
  cancelled: string[];
}

async function startServer(name: string): Promise<FakeServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const health = new HealthImplementation({ '': 'SERVING', 'ddt.v1.Inference': 'SERVING' });
  health.addToServer(server);
  const fake: FakeServer = { address: '', server, health, calls: [], cancelled: [] };
  const note = (
    method: string,
    call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
  ) => fake.calls.push({ method, auth: call.metadata.get('authorization')[0] as string | undefined });
  server.addService(proto.ddt.v1.Inference.service, {
    Caption(
      call: grpc.ServerUnaryCall<{ image: { data: Buffer } }, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) {
      note('Caption', call);
      fake.calls.at(-1)!.bytes = call.request.image.data.length;
      cb(null, { text: `caption from ${name}`, model: 'm' });
    },
    Ask(call: grpc.ServerUnaryCall<{ question: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      note('Ask', call);
      if (call.request.question === 'busy?')
        return cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'queue full' });
      if (call.request.question === 'bad?')
        return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'question too long' });
      setTimeout(() => cb(null, { answer: 'slow answer' }), 1000); // for deadline tests
    },
    GetModelInfo(_call: unknown, cb: grpc.sendUnaryData<unknown>) {
      cb(null, {
        models: [
          {
            name: 'shapes',
            imageSize: 32,
            tokensPerImage: 16,
            maxPromptChars: 256,
            maxImageBytes: '5000000',
            maxImagePixels: 1 << 20,
          },
        ],
        defaultModel: 'shapes',
      });
    },
    Generate(call: grpc.ServerWritableStream<{ prompt: string; seed?: string; numImages: number }, unknown>) {
      note('Generate', call);
      call.on('cancelled', () => fake.cancelled.push('Generate'));
      call.write({ requestId: 'r1', queued: { position: 1, queueLength: 1 } });
      call.write({ requestId: 'r1', progress: { fraction: 0.5, stage: 'tokens', step: 8, totalSteps: 16 } });
      if (call.request.prompt === 'hang') return; // never finishes: for cancellation
      call.write({
        requestId: 'r1',
        result: {
          images: [
            {
              image: { data: Buffer.from([1, 2, 3]), mimeType: 'image/png' },
              seed: call.request.seed ?? '18446744073709551615',
              tokens: [5, 6],
            },
          ],
          model: 'shapes',
          plan: call.request.prompt === 'plan it' ? 'a red circle at the center' : '',
        },
      });
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  fake.address = `127.0.0.1:${port}`;
  return fake;
}

const clientOptions = {
  maxMessageBytes: 32 * 1024 * 1024,
  unaryTimeoutMs: 5000,
  streamTimeoutMs: 5000,
  healthIntervalMs: 0,
};
const image = { data: new Uint8Array([137, 80, 78, 71]), mimeType: 'image/png' };
let a: FakeServer;
let b: FakeServer;
const clients: GrpcInferenceClient[] = [];
function client(addresses: string[], token?: string) {
  const c = new GrpcInferenceClient({ ...clientOptions, addresses, token });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  a = await startServer('a');
  b = await startServer('b');
});
afterAll(() => {
  for (const c of clients) c.close();
  a.server.forceShutdown();
  b.server.forceShutdown();
});

async function collect(events: AsyncIterable<ImageJobEvent>): Promise<ImageJobEvent[]> {
  const out: ImageJobEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe('GrpcInferenceClient', () => {
  it('sends the bearer token and accepts images larger than gRPC’s 4 MiB default', async () => {
    const c = client([a.address], 'secret');
    const big = { data: new Uint8Array(6 * 1024 * 1024), mimeType: 'image/png' };
    expect(await c.caption({ image: big })).toBe('caption from a');
    expect(a.calls.at(-1)).toMatchObject({
      method: 'Caption',
      auth: 'Bearer secret',
      bytes: 6 * 1024 * 1024,
    });
    await c.caption({ image });
    const anonymous = client([a.address]);
    await anonymous.caption({ image });
    expect(a.calls.at(-1)!.auth).toBeUndefined();
  });

  it('streams queued, progress and result events with u64 seeds intact', async () => {
    const events = await collect(client([a.address]).generate({ prompt: 'a red circle', count: 1 }));
    expect(events.map((e) => e.kind)).toEqual(['queued', 'progress', 'result']);
    const result = events[2] as Extract<ImageJobEvent, { kind: 'result' }>;
    expect(result.images[0]!.seed).toBe(18446744073709551615n);
    expect(result.images[0]!.tokens).toEqual([5, 6]);
    expect(Array.from(result.images[0]!.image.data)).toEqual([1, 2, 3]);
    const seeded = await collect(client([a.address]).generate({ prompt: 'x', count: 1, seed: 42n }));
    expect((seeded[2] as Extract<ImageJobEvent, { kind: 'result' }>).images[0]!.seed).toBe(42n);
    expect(result.plan).toBeUndefined(); // an empty plan field: the model did not plan
    const planned = await collect(client([a.address]).generate({ prompt: 'plan it', count: 1 }));
    expect((planned[2] as Extract<ImageJobEvent, { kind: 'result' }>).plan).toBe(
      'a red circle at the center',
    );
  });

  it('reads the server limits from GetModelInfo', async () => {
    expect(await client([a.address]).getModelInfo()).toMatchObject({
      name: 'shapes',
      maxImageBytes: 5_000_000,
      maxPromptChars: 256,
    });
  });

  it('spreads calls round-robin over servers', async () => {
    const c = client([a.address, b.address]);
    const answers = await Promise.all([1, 2, 3, 4].map(() => c.caption({ image })));
    expect(answers.filter((x) => x === 'caption from a')).toHaveLength(2);
    expect(answers.filter((x) => x === 'caption from b')).toHaveLength(2);
  });

  it('skips a server whose health check says NOT_SERVING, and returns to it when it recovers', async () => {
    const c = client([a.address, b.address]);
    b.health.setStatus('ddt.v1.Inference', 'NOT_SERVING');
    try {
      expect(await c.checkHealth()).toEqual(
        new Map([
          [a.address, true],
          [b.address, false],
        ]),
      );
      const answers = await Promise.all([1, 2, 3, 4].map(() => c.caption({ image })));
      expect(new Set(answers)).toEqual(new Set(['caption from a']));
    } finally {
      b.health.setStatus('ddt.v1.Inference', 'SERVING');
    }
    await c.checkHealth();
    const answers = await Promise.all([1, 2].map(() => c.caption({ image })));
    expect(new Set(answers)).toEqual(new Set(['caption from a', 'caption from b']));
  });

  it('fails over from an unreachable server and reports "unavailable" when all are down', async () => {
    const dead = '127.0.0.1:1';
    const c = client([dead, a.address]);
    expect(await c.caption({ image })).toBe('caption from a');
    expect(c.pool.isHealthy(dead)).toBe(false);
    const events = await collect(c.generate({ prompt: 'x', count: 1 }));
    expect(events.at(-1)!.kind).toBe('result');
    await expect(client([dead]).caption({ image })).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('maps deadlines and server errors to the kinds the bot reports', async () => {
    const c = client([a.address]);
    await expect(c.ask({ image, question: 'slow' }, { timeoutMs: 100 })).rejects.toMatchObject({
      kind: 'timeout',
    });
    await expect(c.ask({ image, question: 'busy?' })).rejects.toMatchObject({ kind: 'busy' });
    const err = await c.ask({ image, question: 'bad?' }).catch((e) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect(err).toMatchObject({ kind: 'invalid', message: 'question too long' });
  });

  it('cancels a running stream on the server when the signal aborts', async () => {
    const c = client([a.address]);
    const controller = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const e of c.generate({ prompt: 'hang', count: 1 }, { signal: controller.signal })) {
        seen.push(e.kind);
        if (e.kind === 'progress') controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ kind: 'cancelled' });
    expect(seen).toEqual(['queued', 'progress']);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.cancelled).toContain('Generate');
  });
});

describe('AddressPool', () => {
  it('rotates, skips unhealthy addresses, and falls back when all are unhealthy', () => {
    const pool = new AddressPool(['x:1', 'y:1', 'z:1']);
    expect([pool.next(), pool.next(), pool.next(), pool.next()]).toEqual(['x:1', 'y:1', 'z:1', 'x:1']);
    pool.setHealthy('y:1', false);
    expect([pool.next(), pool.next(), pool.next()]).toEqual(['z:1', 'x:1', 'z:1']);
    pool.setHealthy('x:1', false);
    pool.setHealthy('z:1', false);
    expect(pool.next()).toBeDefined();
    expect(pool.next(new Set(['x:1', 'y:1', 'z:1']))).toBeUndefined();
  });

  it('parses comma-separated address lists', () => {
    expect(parseAddresses('a:1, b:2,a:1')).toEqual(['a:1', 'b:2']);
    expect(() => parseAddresses('a:1,,b:2')).toThrow();
  });
});
