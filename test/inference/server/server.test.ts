/** Contract tests against a real gRPC server on port 0, backed by the deterministic fake runtime. */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImageResult } from '../../../inference/client/client.js';
import { loadServiceDefinition } from '../../../inference/protocol/load.js';
import type { ImageJobEvent } from '../../../inference/protocol/types.js';
import { FakeRuntime } from './fake-runtime.js';
import { codeOf, drain, startTestServer, type TestServer } from './helpers.js';
import { solidPng } from './images.js';

const red = { r: 255, g: 0, b: 0 };

describe('inference server with a fake runtime', () => {
  let t: TestServer;
  let fake: FakeRuntime;
  beforeAll(async () => {
    fake = new FakeRuntime();
    t = await startTestServer(new Map([['fake', fake]]), { METRICS_LISTEN: '127.0.0.1:0' });
    await t.server.ready;
  });
  afterAll(async () => {
    for (const l of t.logs) if (l.level === 'error') console.log(JSON.stringify(l));
    await t.stop();
  });

  it('reports the model, its defaults and the limits', async () => {
    const info = await t.client.getModelInfo();
    expect(info.default_model).toBe('fake');
    const m = info.models[0]!;
    expect(m).toMatchObject({ name: 'fake', image_size: 32, tokens_per_image: 16, codebook_size: 512 });
    expect(m.defaults?.guidance_scale).toBe(3);
    expect(m.max_prompt_chars).toBe(t.config.limits.maxPromptChars);
    expect(info.max_queue).toBe(8);
  });

  it('captions an image decoded to the model resolution', async () => {
    const res = await t.client.caption({
      image: { data: await solidPng(100, 90, red), mime_type: 'image/png' },
    });
    expect(res.text).toContain('255,0,0');
    const got = fake.received.at(-1)!;
    expect(got.images[0]).toMatchObject({ width: 32, height: 32 });
  });

  it('answers a question about an image', async () => {
    const res = await t.client.ask({
      image: { data: await solidPng(10, 10, red), mime_type: '' },
      question: ' what colour? ',
    });
    expect(res.answer).toBe('answer to "what colour?": 255,0,0');
    expect(res.caption).toBe(''); // answered from the image
  });

  it('returns the caption an answer was read off', async () => {
    const res = await t.client.ask({
      image: { data: await solidPng(10, 10, red), mime_type: '' },
      question: 'read it: what colour?',
    });
    expect(res).toMatchObject({
      answer: 'answer to "read it: what colour?": 255,0,0',
      caption: 'a caption of 255,0,0',
    });
  });

  it('streams progress then a result with seeds and tokens, deterministically', async () => {
    const req = { prompt: 'two red circles', num_images: 2, seed: '41' };
    const events = await drain(t.client.generate(req, { requestId: 'req-1' }));
    expect(events.every((e) => e.request_id === 'req-1')).toBe(true);
    const progress = events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(events.at(-1)?.event).toBe('result');
    const result = (events.at(-1) as Extract<ImageJobEvent, { event: 'result' }>).result;
    expect(result.images.map((i) => i.seed)).toEqual(['41', '42']);
    expect(result.images[0]!.tokens).toHaveLength(16);
    expect(result.plan ?? '').toBe(''); // the fake runtime does not plan its generations
    const meta = await sharp(result.images[0]!.image!.data).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 32, height: 32 });
    const again = await collectImageResult(t.client.generate(req));
    expect(Buffer.from(again.images[0]!.image!.data).equals(Buffer.from(result.images[0]!.image!.data))).toBe(
      true,
    );
    const other = await collectImageResult(t.client.generate({ ...req, seed: '7' }));
    expect(Buffer.from(other.images[0]!.image!.data).equals(Buffer.from(result.images[0]!.image!.data))).toBe(
      false,
    );
  });

  it('sends at most one plain progress event per PROGRESS_INTERVAL_MS, and every step with 0', async () => {
    const slow = new FakeRuntime({ steps: 12, stepMs: 5 });
    const every = await startTestServer(new Map([['fake', slow]]), { PROGRESS_INTERVAL_MS: '0' });
    const limited = await startTestServer(new Map([['fake', slow]]), { PROGRESS_INTERVAL_MS: '1000' });
    try {
      const steps = async (s: TestServer) =>
        (await drain(s.client.generate({ prompt: 'x' }))).flatMap((e) =>
          e.event === 'progress' ? [e.progress.step] : [],
        );
      expect(await steps(every)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      // The first at once, the newest (the last step) before the result; the rest superseded.
      expect(await steps(limited)).toEqual([1, 12]);
    } finally {
      await every.stop();
      await limited.stop();
    }
  });

  it('sends preview images and a reveal animation when asked', async () => {
    const events = await drain(
      t.client.generate({ prompt: 'x', previews: true, reveal: true, output_format: 'OUTPUT_FORMAT_WEBP' }),
    );
    const previews = events.flatMap((e) =>
      e.event === 'progress' && e.progress.preview ? [e.progress.preview] : [],
    );
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0]!.mime_type).toBe('image/webp');
    const result = (events.at(-1) as Extract<ImageJobEvent, { event: 'result' }>).result;
    const reveal = result.images[0]!.reveal!;
    expect(reveal.frames).toHaveLength(16);
    expect(reveal.tokens_kept).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const anim = await sharp(reveal.animation!.data, { animated: true }).metadata();
    expect(anim).toMatchObject({ format: 'webp', pages: 16 });
    const gif = await collectImageResult(
      t.client.generate({ prompt: 'x', reveal: true, animation_format: 'ANIMATION_FORMAT_GIF' }),
    );
    expect((await sharp(gif.images[0]!.reveal!.animation!.data, { animated: true }).metadata()).pages).toBe(
      16,
    );
  });

  it('edits, blends, encodes and decodes', async () => {
    const image = { data: await solidPng(32, 32, red), mime_type: '' };
    const edited = await collectImageResult(
      t.client.edit({ image, instruction: 'make it blue', num_images: 3, seed: '5' }),
    );
    expect(edited.images).toHaveLength(3);
    expect(edited.plan).toBe('after make it blue');
    const blended = await collectImageResult(
      t.client.blend({ image_a: image, image_b: image, amount: 0.25 }),
    );
    expect(blended.images).toHaveLength(1);
    expect(fake.received.at(-1)?.text).toBe('12-16'); // round(0.25 * 16) coarsest codes: indices 12..15
    const { tokens } = await t.client.encode({ image });
    expect(tokens).toHaveLength(16);
    const decoded = await collectImageResult(t.client.decode({ tokens, keep: 4 }));
    expect(decoded.images[0]!.tokens).toEqual(tokens);
    expect(fake.received.at(-1)?.text).toBe('4');
  });

  it('chats with text deltas, or answers with an image', async () => {
    const turns = [{ role: 'ROLE_USER' as const, parts: [{ text: 'hello there' }] }];
    const events = await drain(t.client.chat({ turns }));
    const deltas = events.flatMap((e) => (e.event === 'text_delta' ? [e.text_delta] : []));
    const done = events.at(-1);
    expect(done?.event).toBe('done');
    if (done?.event !== 'done') return;
    expect(deltas.join('').trim()).toBe(done.done.text);
    expect(done.done.finish_reason).toBe('end');
    const drawn = await drain(
      t.client.chat({ turns: [{ role: 'ROLE_USER', parts: [{ text: 'draw a square' }] }] }),
    );
    const last = drawn.at(-1);
    expect(last?.event === 'done' && last.done.image?.image?.mime_type).toBe('image/png');
  });

  it('reports queue positions when jobs wait', async () => {
    const first = drain(t.client.generate({ prompt: 'first' }));
    const second = await drain(t.client.generate({ prompt: 'second' }));
    await first;
    const queued = second.filter((e) => e.event === 'queued');
    expect(queued[0]).toMatchObject({ queued: { position: 1 } });
  });

  it('serves health SERVING and reflection listing both services', async () => {
    expect(await t.client.checkHealth('')).toBe('SERVING');
    expect(await t.client.checkHealth('ddt.v1.Inference')).toBe('SERVING');
    const require = createRequire(import.meta.url);
    const protoFile = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    type ReflectionReply = { list_services_response: { service: { name: string }[] } };
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoFile, { keepCase: true }));
    const Reflection = (pkg.grpc as grpc.GrpcObject).reflection as grpc.GrpcObject;
    const Ctor = (Reflection.v1 as grpc.GrpcObject).ServerReflection as grpc.ServiceClientConstructor;
    const reflection = new Ctor(`127.0.0.1:${t.server.port}`, grpc.credentials.createInsecure());
    const call = (
      reflection as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, ReflectionReply> }
    ).ServerReflectionInfo();
    const reply = new Promise<ReflectionReply>((resolve, reject) => {
      call.on('data', resolve);
      call.on('error', reject);
    });
    call.write({ list_services: '' });
    const names = (await reply).list_services_response.service.map((s) => s.name);
    call.end();
    reflection.close();
    expect(names).toEqual(expect.arrayContaining(['ddt.v1.Inference', 'grpc.health.v1.Health']));
  });

  it('exports Prometheus metrics per RPC and error code', async () => {
    await codeOf(t.client.caption({ image: { data: Buffer.alloc(0), mime_type: '' } }));
    const body = await (await fetch(`http://127.0.0.1:${t.server.metricsPort}/metrics`)).text();
    expect(body).toMatch(/ddt_rpc_duration_seconds_count\{rpc="Generate",code="OK"\} [1-9]/);
    expect(body).toMatch(/ddt_rpc_errors_total\{rpc="Caption",code="INVALID_ARGUMENT"\} [1-9]/);
    expect(body).toMatch(/ddt_images_generated_total\{model="fake"\} [1-9]/);
    expect(body).toMatch(/ddt_queue_depth\{model="fake",state="queued"\} 0/);
    expect(body).toContain('ddt_queue_wait_seconds_bucket');
  });

  it('echoes x-request-id in the response header of unary calls, streams and errors', async () => {
    const Inference = grpc.makeClientConstructor(loadServiceDefinition(), 'Inference');
    const raw = new Inference(`127.0.0.1:${t.server.port}`, grpc.credentials.createInsecure()) as unknown as {
      GetModelInfo(req: unknown, md: grpc.Metadata, cb: (err: unknown) => void): grpc.ClientUnaryCall;
      Caption(req: unknown, md: grpc.Metadata, cb: (err: unknown) => void): grpc.ClientUnaryCall;
      Generate(req: unknown, md: grpc.Metadata): grpc.ClientReadableStream<ImageJobEvent>;
    } & grpc.Client;
    const md = (id: string) => {
      const m = new grpc.Metadata();
      m.set('x-request-id', id);
      return m;
    };
    const headerOf = (call: grpc.ClientUnaryCall | grpc.ClientReadableStream<ImageJobEvent>) =>
      new Promise<unknown>((resolve) => call.on('metadata', (m) => resolve(m.get('x-request-id')[0])));
    try {
      const unary = headerOf(raw.GetModelInfo({}, md('hdr-unary'), () => {}));
      const failed = headerOf(raw.Caption({ image: { data: Buffer.alloc(0) } }, md('hdr-error'), () => {}));
      const stream = raw.Generate({ prompt: 'x' }, md('hdr-stream'));
      const streamed = headerOf(stream);
      stream.resume();
      expect(await unary).toBe('hdr-unary');
      expect(await failed).toBe('hdr-error');
      expect(await streamed).toBe('hdr-stream');
    } finally {
      raw.close();
    }
  });

  it('logs one JSON line per request with its request id and code', async () => {
    await t.client.getModelInfo({ requestId: 'log-me' });
    const line = t.logs.find((l) => l.request_id === 'log-me' && l.msg === 'request done');
    expect(line).toMatchObject({ rpc: 'GetModelInfo', code: 'OK', level: 'info' });
  });
});

describe('cancellation and deadlines', () => {
  let t: TestServer;
  let fake: FakeRuntime;
  beforeAll(async () => {
    fake = new FakeRuntime({ steps: 400, stepMs: 5 });
    t = await startTestServer(new Map([['fake', fake]]));
  });
  afterAll(async () => {
    for (const l of t.logs) if (l.level === 'error') console.log(JSON.stringify(l));
    await t.stop();
  });

  it('stops the job within a step when the client cancels', async () => {
    const controller = new AbortController();
    const stream = t.client.generate({ prompt: 'slow' }, { signal: controller.signal });
    const code = codeOf(
      (async () => {
        for await (const e of stream) if (e.event === 'progress' && e.progress.step >= 3) controller.abort();
      })(),
    );
    expect(await code).toBe(grpc.status.CANCELLED);
    await new Promise((r) => setTimeout(r, 100));
    const stepsAfterCancel = fake.stepsRun;
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.stepsRun).toBe(stepsAfterCancel);
    expect(stepsAfterCancel).toBeLessThan(50);
  });

  it('gives DEADLINE_EXCEEDED and stops the work when the deadline passes', async () => {
    const before = fake.stepsRun;
    expect(await codeOf(drain(t.client.generate({ prompt: 'slow' }, { timeoutMs: 100 })))).toBe(
      grpc.status.DEADLINE_EXCEEDED,
    );
    await new Promise((r) => setTimeout(r, 100));
    const after = fake.stepsRun;
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.stepsRun).toBe(after);
    expect(after - before).toBeLessThan(60);
  });

  it('cancels in-flight calls with UNAVAILABLE when shutdown outlasts the grace period', async () => {
    const s = await startTestServer(new Map([['fake', new FakeRuntime({ steps: 10_000, stepMs: 5 })]]), {
      SHUTDOWN_GRACE_MS: '200',
    });
    const events: ImageJobEvent[] = [];
    const job = codeOf(
      (async () => {
        for await (const e of s.client.generate({ prompt: 'endless' })) events.push(e);
      })(),
    );
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await s.server.shutdown();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await job).toBe(grpc.status.UNAVAILABLE);
    expect(events.length).toBeGreaterThan(0);
    s.client.close();
  });
});

describe('loading, auth', () => {
  it('is NOT_SERVING and refuses work with UNAVAILABLE until the models are loaded', async () => {
    let resolveModels!: (m: Map<string, FakeRuntime>) => void;
    const pending = new Promise<Map<string, FakeRuntime>>((r) => {
      resolveModels = r;
    });
    const t = await startTestServer(pending);
    try {
      expect(await t.client.checkHealth('')).toBe('NOT_SERVING');
      expect(await codeOf(t.client.getModelInfo())).toBe(grpc.status.UNAVAILABLE);
      resolveModels(new Map([['fake', new FakeRuntime()]]));
      await t.server.ready;
      expect(await t.client.checkHealth('ddt.v1.Inference')).toBe('SERVING');
      expect((await t.client.getModelInfo()).models).toHaveLength(1);
    } finally {
      await t.stop();
    }
  });

  it('requires the bearer token when one is configured; health stays open', async () => {
    const models = new Map([['fake', new FakeRuntime()]]);
    const t = await startTestServer(models, { INFERENCE_TOKEN: 's3cret' });
    const anon = await startTestServer(models, { INFERENCE_TOKEN: 's3cret' }, 'wrong');
    try {
      expect((await t.client.getModelInfo()).default_model).toBe('fake');
      expect(await codeOf(anon.client.getModelInfo())).toBe(grpc.status.UNAUTHENTICATED);
      expect(await anon.client.checkHealth('')).toBe('SERVING');
    } finally {
      await t.stop();
      await anon.stop();
    }
  });
});
