/**
 * The real server with real ONNX sessions (inference/runtime loadModels) on port 0, driven by a real
 * gRPC client: every RPC, health, reflection, determinism, cancellation, and the bad-input table
 * after which the server must still be SERVING and answer normally.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectImageResult } from '../../../inference/client/client.js';
import type { ImageJobEvent } from '../../../inference/protocol/types.js';
import type { ModelRuntime } from '../../../inference/runtime/api.js';
import { loadModels } from '../../../inference/runtime/index.js';
import { buildBadInputCases } from './bad-input-cases.js';
import { codeOf, drain, startTestServer, type TestServer, testConfig } from './helpers.js';
import { solidPng } from './images.js';
import { findModelsDir } from './model-dir.js';

const found = findModelsDir();
const env = { MAX_IMAGE_BYTES: String(2 * 1024 * 1024) };

describe.skipIf(!found)(`real runtime (${found?.pkg})`, async () => {
  let t: TestServer;
  let models: Map<string, ModelRuntime>;
  let size = 0;
  const cases = await buildBadInputCases(testConfig(env));
  const red = async () => ({
    data: await solidPng(48, 40, { r: 230, g: 20, b: 20 }),
    mime_type: 'image/png',
  });

  beforeAll(async () => {
    models = await loadModels(found!.dir, { executionProvider: 'cpu', maxQueue: 8 });
    t = await startTestServer(models, env);
    await t.server.ready;
    size = [...models.values()][0]!.description.imageSize;
  });
  afterAll(async () => {
    await t?.stop();
    await Promise.all([...(models?.values() ?? [])].map((m) => m.close()));
  });

  it('is SERVING and lists both services by reflection', async () => {
    expect(await t.client.checkHealth('ddt.v1.Inference')).toBe('SERVING');
    const require = createRequire(import.meta.url);
    const file = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(file, { keepCase: true }));
    const v1 = ((pkg.grpc as grpc.GrpcObject).reflection as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const client = new (v1.ServerReflection as grpc.ServiceClientConstructor)(
      `127.0.0.1:${t.server.port}`,
      grpc.credentials.createInsecure(),
    );
    type Reply = { list_services_response: { service: { name: string }[] } };
    const call = (
      client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, Reply> }
    ).ServerReflectionInfo();
    const reply = new Promise<Reply>((resolve, reject) => {
      call.on('data', resolve);
      call.on('error', reject);
    });
    call.write({ list_services: '' });
    const names = (await reply).list_services_response.service.map((s) => s.name);
    call.end();
    client.close();
    expect(names).toEqual(expect.arrayContaining(['ddt.v1.Inference', 'grpc.health.v1.Health']));
  });

  it('describes the loaded model', async () => {
    const info = await t.client.getModelInfo();
    expect(info.models.map((m) => m.name)).toContain(info.default_model);
    expect(info.models[0]!.image_size).toBe(size);
  });

  it('captions and answers questions', async () => {
    const caption = await t.client.caption({ image: await red() });
    expect(typeof caption.text).toBe('string');
    const answer = await t.client.ask({ image: await red(), question: 'what colour is it?' });
    expect(typeof answer.answer).toBe('string');
  });

  it('generates deterministically per seed, with progress, previews and a reveal', async () => {
    const req = { prompt: 'two red circles', seed: '1234', steps: 2 };
    const events = await drain(t.client.generate({ ...req, previews: true, reveal: true }));
    expect(events.some((e) => e.event === 'progress')).toBe(true);
    const result = (events.at(-1) as Extract<ImageJobEvent, { event: 'result' }>).result;
    const first = result.images[0]!;
    expect(await sharp(first.image!.data).metadata()).toMatchObject({
      format: 'png',
      width: size,
      height: size,
    });
    expect(first.reveal!.frames.length).toBeGreaterThan(1);
    expect((await sharp(first.reveal!.animation!.data, { animated: true }).metadata()).pages).toBe(
      first.reveal!.frames.length,
    );
    const a = await collectImageResult(t.client.generate(req));
    const b = await collectImageResult(t.client.generate(req));
    expect(Buffer.from(a.images[0]!.image!.data).equals(Buffer.from(b.images[0]!.image!.data))).toBe(true);
    expect(a.images[0]!.tokens).toEqual(b.images[0]!.tokens);
  });

  it('edits, blends, encodes, decodes and chats', async () => {
    const image = await red();
    const edited = await collectImageResult(
      t.client.edit({ image, instruction: 'make it blue', seed: '3', steps: 2, num_images: 2 }),
    );
    expect(edited.images).toHaveLength(2);
    const blended = await collectImageResult(
      t.client.blend({ image_a: image, image_b: await red(), amount: 0.5, steps: 2 }),
    );
    expect(blended.images).toHaveLength(1);
    const { tokens } = await t.client.encode({ image });
    const info = await t.client.getModelInfo();
    expect(tokens).toHaveLength(info.models[0]!.tokens_per_image);
    const decoded = await collectImageResult(t.client.decode({ tokens, steps: 2 }));
    expect(decoded.images[0]!.tokens).toEqual(tokens);
    const chat = await drain(
      t.client.chat({
        turns: [{ role: 'ROLE_USER', parts: [{ image }, { text: 'describe the image' }] }],
        steps: 2,
      }),
    );
    expect(chat.at(-1)?.event).toBe('done');
  });

  it('cancels a Generate mid-stream and the runtime goes idle', async () => {
    const controller = new AbortController();
    const stream = t.client.generate(
      { prompt: 'a big blue square', num_images: 4 },
      { signal: controller.signal },
    );
    const code = await codeOf(
      (async () => {
        for await (const e of stream) if (e.event === 'progress') controller.abort();
      })(),
    );
    expect(code).toBe(grpc.status.CANCELLED);
    const runtime = [...models.values()][0]!;
    const deadline = Date.now() + 5000;
    while (runtime.stats().running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(runtime.stats()).toMatchObject({ running: 0, queued: 0 });
  });

  it.each(cases.map((c) => [c.name, c] as const))('bad input: %s', async (_name, c) => {
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

  it('is still SERVING and answers normally after the bad input', async () => {
    expect(await t.client.checkHealth('')).toBe('SERVING');
    const result = await collectImageResult(
      t.client.generate({ prompt: 'two red circles', seed: '5', steps: 2 }),
    );
    expect(result.images).toHaveLength(1);
  });
});
