/**
 * 2. Serving overhead: the same Caption and Generate requests through gRPC (server in this process, on the
 * same runtime object) and in process, alternating. "In process" does the request's whole work without the
 * server: Caption decodes the request's PNG (the server's own decodeInputImage) and runs the model;
 * Generate runs the model and encodes the PNG it returns (encodeImage). Overhead = gRPC time / in-process
 * time - 1 (median of paired runs): protobuf, HTTP/2 on loopback, the handlers, events and logging.
 * The model-only time (runtime call alone) is reported beside it.
 */
import { collectImageResult, createInferenceClient } from '../../inference/client/client.js';
import { loadServerConfig } from '../../inference/config.js';
import { decodeInputImage } from '../../inference/server/image-input.js';
import { encodeImage } from '../../inference/server/image-output.js';
import { createLogger } from '../../inference/server/logger.js';
import { startServer } from '../../inference/server/server.js';
import { type BenchContext, defaultParams, jobContext } from '../lib/context.js';
import { testPicture } from '../lib/images.js';
import { PROMPTS, SEED } from '../lib/inputs.js';
import { median, now, round } from '../lib/stats.js';
import { floor, type SuiteResult } from '../lib/types.js';

export async function servingSuite(ctx: BenchContext): Promise<SuiteResult> {
  const t0 = now();
  const { runtime, manifest } = await ctx.load();
  const config = loadServerConfig({
    INFERENCE_LISTEN: '127.0.0.1:0',
    LOG_LEVEL: 'info',
    INFERENCE_TOKEN: '',
  });
  // Production logs one line per call at info; format them as it would, but do not print them.
  const log = createLogger({ level: 'info', write: () => {} });
  const server = await startServer({ config, models: new Map([[manifest.name, runtime]]), log });
  await server.ready;
  const client = createInferenceClient({ address: `127.0.0.1:${server.port}` });
  try {
    const { rgb, png } = await testPicture(manifest.image.size);
    const params = defaultParams(runtime, SEED);
    const prompt = PROMPTS[1]!;
    const size = manifest.image.size;
    const ops = {
      caption: {
        model: () => runtime.caption(rgb, jobContext()),
        direct: async () =>
          runtime.caption(
            await decodeInputImage({ data: png, mime_type: 'image/png' }, 'image', size, config.limits),
            jobContext(),
          ),
        grpc: () => client.caption({ image: { data: png, mime_type: 'image/png' } }),
      },
      generate: {
        model: () => runtime.generate(prompt, 1, params, jobContext()),
        direct: async () => {
          const [image] = await runtime.generate(prompt, 1, params, jobContext());
          return encodeImage(image!.image, 'OUTPUT_FORMAT_PNG');
        },
        grpc: () =>
          collectImageResult(
            client.generate({ prompt, num_images: 1, seed: SEED.toString(), previews: false }),
          ),
      },
    };
    const { repeats, warmup } = ctx.sizes.serving;
    const rows = [];
    for (const [name, op] of Object.entries(ops)) {
      const times = { model: [] as number[], direct: [] as number[], grpc: [] as number[] };
      const orders = [
        ['model', 'direct', 'grpc'],
        ['grpc', 'direct', 'model'],
        ['direct', 'grpc', 'model'],
      ] as const;
      for (let i = 0; i < warmup + repeats; i++) {
        for (const which of orders[i % orders.length]!) {
          const start = now();
          await op[which]();
          const elapsed = now() - start;
          if (i >= warmup) times[which].push(elapsed);
        }
      }
      const paired = (base: number[]) => median(base.map((d, i) => times.grpc[i]! / d - 1)) * 100;
      rows.push({
        rpc: name,
        repeats,
        modelMs: round(median(times.model)),
        inProcessMs: round(median(times.direct)),
        grpcMs: round(median(times.grpc)),
        overheadMs: round(median(times.grpc) - median(times.direct)),
        overheadPct: round(paired(times.direct)),
        overModelPct: round(paired(times.model)),
      });
      ctx.log(`serving: ${name} done`);
    }
    const floors = rows.map((r) =>
      floor(
        `serving.${r.rpc}.overhead`,
        `${r.rpc}: end-to-end gRPC latency over the same request's in-process time (median of paired runs)`,
        '<= 5 %',
        r.overheadPct,
        '%',
        r.overheadPct <= 5,
        'a fixed ~1-2 ms per call (HTTP/2 round trip, protobuf, handlers) is large next to a ~30 ms model run',
      ),
    );
    return {
      suite: 'serving',
      seconds: (now() - t0) / 1000,
      data: { rows, input: `${manifest.image.size}x${manifest.image.size} PNG (${png.length} bytes)` },
      floors,
      notes: [
        'server and client in the bench process, loopback, plaintext, info-level logs formatted but not printed',
        'in process = the request without the server: PNG decode + model (Caption), model + PNG encode (Generate); overModelPct compares with the model call alone',
      ],
    };
  } finally {
    client.close();
    await server.shutdown();
  }
}
