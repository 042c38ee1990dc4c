/**
 * 2. Serving overhead: the same Caption and Generate requests through gRPC (server in this process, on the
 * package loaded as the server loads it: on a runtime thread of its own unless RUNTIME_THREAD=0) and in
 * process, alternating. "In process" does the request's whole work without the
 * server: Caption decodes the request's PNG (the server's own decodeInputImage) and runs the model;
 * Generate runs the model and encodes the PNG it returns (encodeImage). Overhead = gRPC time / in-process
 * time - 1 (median of paired runs): protobuf, HTTP/2 on loopback, the handlers, events and logging.
 * The model-only time (runtime call alone) is reported beside it.
 *
 * Both sides call the same loaded runtime, the one the server holds. A run right after a run on another
 * loaded copy of the package is slower by 7-14 ms of a 165 ms Generate (its weights are out of the caches:
 * two copies do not fit the 32 MiB L3), and when the in-process side used the bench's own copy every gRPC
 * call followed a call on that copy while an in-process one did only in two orders of three, which charged
 * gRPC with about half of the overhead the suite reported (BENCHMARKS.md, session 24).
 */
import {
  collectImageResult,
  createInferenceClient,
  type InferenceClient,
} from '../../inference/client/client.js';
import { loadServerConfig, type ServerConfig } from '../../inference/config.js';
import type { GeneratedImage, ModelRuntime, RgbImage } from '../../inference/runtime/api.js';
import { decodeInputImage } from '../../inference/server/image-input.js';
import { encodeImage } from '../../inference/server/image-output.js';
import { createLogger } from '../../inference/server/logger.js';
import { loadServerModels } from '../../inference/server/models.js';
import { startServer } from '../../inference/server/server.js';
import { type BenchContext, defaultParams, jobContext } from '../lib/context.js';
import { testPicture } from '../lib/images.js';
import { PROMPTS, SEED } from '../lib/inputs.js';
import { median, now, round } from '../lib/stats.js';
import { floor, type SuiteResult } from '../lib/types.js';

type Which = 'model' | 'direct' | 'grpc';
type Op = Record<Which, () => Promise<unknown>>;

/** Runs model / direct / gRPC in rotating orders; the times of each after the warm-up rounds. */
async function alternate(op: Op, warmup: number, repeats: number): Promise<Record<Which, number[]>> {
  const times: Record<Which, number[]> = { model: [], direct: [], grpc: [] };
  const orders: Which[][] = [
    ['model', 'direct', 'grpc'],
    ['grpc', 'direct', 'model'],
    ['direct', 'grpc', 'model'],
  ];
  for (let i = 0; i < warmup + repeats; i++) {
    for (const which of orders[i % orders.length]!) {
      const start = now();
      await op[which]();
      const elapsed = now() - start;
      if (i >= warmup) times[which].push(elapsed);
    }
  }
  return times;
}

/** A server in this process on `runtime`, with a client; production logs formatted but not printed. */
async function startLocal(config: ServerConfig, name: string, runtime: ModelRuntime) {
  const log = createLogger({ level: 'info', write: () => {} });
  const server = await startServer({ config, models: new Map([[name, runtime]]), log });
  await server.ready;
  const client = createInferenceClient({ address: `127.0.0.1:${server.port}` });
  return {
    client,
    close: async () => {
      client.close();
      await server.shutdown();
    },
  };
}

/** The benchmark's two requests through a client. */
function grpcCalls(client: InferenceClient, png: Buffer, prompt: string) {
  return {
    caption: () => client.caption({ image: { data: png, mime_type: 'image/png' } }),
    generate: () =>
      collectImageResult(client.generate({ prompt, num_images: 1, seed: SEED.toString(), previews: false })),
  };
}

/** The request's work outside the model, as the server does it: decode the input, encode the output. */
interface PngWork {
  decode: () => Promise<RgbImage>;
  encode: (image: RgbImage) => Promise<unknown>;
}

/**
 * The serving path alone: a server whose runtime returns a stored result at once, so a call's time is
 * protobuf, HTTP/2 on loopback, the handlers and the PNG work only. Its ms over the in-process work is the
 * fixed cost that the overhead percentage divides by the model time.
 */
async function measureServingPath(
  runtime: ModelRuntime,
  name: string,
  config: ServerConfig,
  stored: { text: string; images: GeneratedImage[] },
  request: { png: Buffer; prompt: string; work: PngWork },
  warmup: number,
  repeats: number,
) {
  const instant: ModelRuntime = Object.create(runtime);
  instant.caption = async () => stored.text;
  instant.generate = async () => stored.images;
  const local = await startLocal(config, name, instant);
  try {
    const grpc = grpcCalls(local.client, request.png, request.prompt);
    // the in-process side must not run the model either: decode (Caption) or encode (Generate) only
    const ops: Record<'caption' | 'generate', Op> = {
      caption: { model: async () => stored.text, direct: request.work.decode, grpc: grpc.caption },
      generate: {
        model: async () => stored.images,
        direct: () => request.work.encode(stored.images[0]!.image),
        grpc: grpc.generate,
      },
    };
    const rows = [];
    for (const [rpc, op] of Object.entries(ops)) {
      const times = await alternate(op, warmup, repeats);
      rows.push({
        rpc,
        repeats,
        inProcessMs: round(median(times.direct)),
        grpcMs: round(median(times.grpc)),
        fixedCostMs: round(median(times.grpc) - median(times.direct)),
      });
    }
    return rows;
  } finally {
    await local.close();
  }
}

export async function servingSuite(ctx: BenchContext): Promise<SuiteResult> {
  const t0 = now();
  const { runtime, manifest, modelsDir } = await ctx.load();
  const config = loadServerConfig({
    INFERENCE_LISTEN: '127.0.0.1:0',
    LOG_LEVEL: 'info',
    INFERENCE_TOKEN: '',
    RUNTIME_THREAD: process.env.RUNTIME_THREAD ?? '',
  });
  // a second copy, loaded as inference/main.ts loads it (the runtime thread's hop is part of a call's cost);
  // the in-process side calls it too, not the bench's copy (see the head of this file)
  const served = config.runtimeThread
    ? [
        ...(
          await loadServerModels(
            { ...config, modelsDir },
            { executionProvider: 'cpu', maxBatch: ctx.options.maxBatch, maxQueue: 256 },
          )
        ).values(),
      ][0]!
    : runtime;
  const local = await startLocal(config, manifest.name, served);
  try {
    const { rgb, png } = await testPicture(manifest.image.size);
    const params = defaultParams(runtime, SEED);
    const prompt = PROMPTS[1]!;
    const work: PngWork = {
      decode: () =>
        decodeInputImage({ data: png, mime_type: 'image/png' }, 'image', manifest.image.size, config.limits),
      encode: (image) => encodeImage(image, 'OUTPUT_FORMAT_PNG'),
    };
    const grpc = grpcCalls(local.client, png, prompt);
    const ops: Record<'caption' | 'generate', Op> = {
      caption: {
        model: () => served.caption(rgb, jobContext()),
        direct: async () => served.caption(await work.decode(), jobContext()),
        grpc: grpc.caption,
      },
      generate: {
        model: () => served.generate(prompt, 1, params, jobContext()),
        direct: async () => {
          const [image] = await served.generate(prompt, 1, params, jobContext());
          return work.encode(image!.image);
        },
        grpc: grpc.generate,
      },
    };
    const { repeats, warmup } = ctx.sizes.serving;
    const rows = [];
    for (const [name, op] of Object.entries(ops)) {
      const times = await alternate(op, warmup, repeats);
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
    const stored = {
      text: await served.caption(rgb, jobContext()),
      images: await served.generate(prompt, 1, params, jobContext()),
    };
    const servingPath = await measureServingPath(
      runtime,
      manifest.name,
      config,
      stored,
      { png, prompt, work },
      warmup,
      repeats,
    );
    const floors = rows.map((r) => {
      const fixed = servingPath.find((p) => p.rpc === r.rpc)?.fixedCostMs;
      return floor(
        `serving.${r.rpc}.overhead`,
        `${r.rpc}: end-to-end gRPC latency over the same request's in-process time (median of paired runs)`,
        '<= 5 %',
        r.overheadPct,
        '%',
        r.overheadPct <= 5,
        `the serving path alone costs ${fixed} ms per call (servingPath), next to a ${r.modelMs} ms model run`,
      );
    });
    return {
      suite: 'serving',
      seconds: (now() - t0) / 1000,
      data: {
        rows,
        servingPath,
        input: `${manifest.image.size}x${manifest.image.size} PNG (${png.length} bytes)`,
        runtimeThread: config.runtimeThread,
      },
      floors,
      notes: [
        'server and client in the bench process, loopback, plaintext, info-level logs formatted but not printed',
        'runtimeThread: whether the server ran the package on a runtime thread of its own (RUNTIME_THREAD, as deployed); the in-process side calls the same runtime (through the same thread hop), so both sides find the same weights in the caches',
        'in process = the request without the server: PNG decode + model (Caption), model + PNG encode (Generate); overModelPct compares with the model call alone',
        'servingPath: the same requests through a second server whose runtime answers at once with a stored result (the fixed cost of a call, hot, with no model run in between), against the same in-process work',
      ],
    };
  } finally {
    await local.close();
    if (served !== runtime) await served.close();
  }
}
