/**
 * 2. Serving overhead: the same Caption and Generate requests through gRPC (server in this process, on the
 * same runtime object) and as direct runtime calls, alternating. Overhead = gRPC time / runtime time - 1;
 * it covers protobuf, HTTP/2 on loopback, sharp decode of the input and PNG encode of the output.
 */
import { collectImageResult, createInferenceClient } from '../../inference/client/client.js';
import { loadServerConfig } from '../../inference/config.js';
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
    const ops = {
      caption: {
        direct: () => runtime.caption(rgb, jobContext()),
        grpc: () => client.caption({ image: { data: png, mime_type: 'image/png' } }),
      },
      generate: {
        direct: () => runtime.generate(prompt, 1, params, jobContext()),
        grpc: () =>
          collectImageResult(
            client.generate({ prompt, num_images: 1, seed: SEED.toString(), previews: false }),
          ),
      },
    };
    const { repeats, warmup } = ctx.sizes.serving;
    const rows = [];
    for (const [name, op] of Object.entries(ops)) {
      const direct: number[] = [];
      const grpc: number[] = [];
      for (let i = 0; i < warmup + repeats; i++) {
        const order = i % 2 === 0 ? (['direct', 'grpc'] as const) : (['grpc', 'direct'] as const);
        for (const which of order) {
          const start = now();
          await op[which]();
          const elapsed = now() - start;
          if (i >= warmup) (which === 'direct' ? direct : grpc).push(elapsed);
        }
      }
      const paired = direct.map((d, i) => grpc[i]! / d - 1);
      rows.push({
        rpc: name,
        repeats,
        runtimeMs: round(median(direct)),
        grpcMs: round(median(grpc)),
        overheadMs: round(median(grpc) - median(direct)),
        overheadPct: round(median(paired) * 100),
      });
      ctx.log(`serving: ${name} done`);
    }
    const floors = rows.map((r) =>
      floor(
        `serving.${r.rpc}.overhead`,
        `${r.rpc}: end-to-end gRPC latency over the in-process runtime time (median of paired runs)`,
        '<= 5 %',
        r.overheadPct,
        '%',
        r.overheadPct <= 5,
        'fixed per-call cost (HTTP/2 round trip, protobuf, sharp) is large next to a very short model run',
      ),
    );
    return {
      suite: 'serving',
      seconds: (now() - t0) / 1000,
      data: { rows, input: `${manifest.image.size}x${manifest.image.size} PNG (${png.length} bytes)` },
      floors,
      notes: [
        'server and client in the bench process, loopback, plaintext, info-level logs formatted but not printed',
      ],
    };
  } finally {
    client.close();
    await server.shutdown();
  }
}
