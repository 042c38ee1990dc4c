/**
 * Child-process side of bench/lib/bot-process.ts: the real bot (bot/create-bot.ts with the real gRPC
 * client) on an event loop of its own, as `npm start` runs it in production. In the bench process it
 * shared its loop and heap with whatever the earlier suites left there: in one run after the memory and
 * concurrency suites its acknowledgement p99 was 315 ms against 231 ms with the bot suite alone.
 * It reports when the bot calls Generate and when a progress event with a preview reaches it.
 */
import { parseConfig } from '../../bot/config.js';
import { createBot } from '../../bot/create-bot.js';
import type { GenerateRequest, ImageJobEvent, InferenceClient } from '../../bot/inference/client.js';
import { GrpcInferenceClient } from '../../bot/inference/grpc-client.js';
import { JobStore } from '../../bot/store/job-store.js';
import type { BotChildEvent, BotChildSettings } from './bot-process.js';

const settings = JSON.parse(process.env.BENCH_BOT_SETTINGS ?? '{}') as BotChildSettings;
const config = parseConfig({
  DISCORD_TOKEN: settings.token,
  DISCORD_API_URL: settings.restUrl,
  INFERENCE_ADDRESS: settings.inferenceAddress,
  BOT_DB_PATH: settings.dbPath,
  LOG_LEVEL: 'warn',
});
const send = (e: BotChildEvent) => process.send?.(e);
const grpc = new GrpcInferenceClient({ ...config.inference, addresses: [...config.inference.addresses] });

let active = 0;
const track = async function* (seed: string, events: AsyncIterable<ImageJobEvent>) {
  active++;
  send({ kind: 'active', active, at: Date.now() });
  let previewSeen = false;
  try {
    for await (const e of events) {
      if (e.kind === 'progress' && e.preview && !previewSeen) {
        previewSeen = true;
        send({ kind: 'preview', seed, at: Date.now() });
      }
      yield e;
    }
  } finally {
    active--;
    send({ kind: 'active', active, at: Date.now() });
  }
};
const inference = new Proxy(grpc, {
  get(target, prop) {
    if (prop === 'generate') {
      return (r: GenerateRequest, o?: unknown) => {
        send({ kind: 'jobStart', seed: String(r.seed), at: Date.now() });
        return track(String(r.seed), target.generate(r, o as never));
      };
    }
    const v = Reflect.get(target, prop, target) as unknown;
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  },
}) as InferenceClient;

const store = new JobStore(config.store.path);
const bot = createBot({ config, inference, store });
await bot.start();
send({ kind: 'ready', progressIntervalMs: config.jobs.progressIntervalMs, at: Date.now() });

const stop = async () => {
  await bot.stop().catch(() => {});
  store.close();
  grpc.close();
  process.exit(0);
};
process.on('message', (m) => {
  if ((m as { op?: string }).op === 'stop') void stop();
});
process.on('disconnect', () => void stop());
