/**
 * inference/main.ts with a worker layout from argv[2] (JSON SessionTuning & { workers }), so the bench can compare
 * the server with other settings in the same run. Same config, loader and server as the real entry point.
 */
import { loadServerConfig } from '../../inference/config.js';
import type { SessionTuning } from '../../inference/runtime/worker-protocol.js';
import { createLogger } from '../../inference/server/logger.js';
import { loadServerModels } from '../../inference/server/models.js';
import { startServer } from '../../inference/server/server.js';

const { workers, ...tuning } = JSON.parse(process.argv[2] ?? '{}') as SessionTuning & { workers?: number };
const config = loadServerConfig();
const log = createLogger({ level: config.logLevel });
const models = loadServerModels(config, {
  executionProvider: config.executionProvider,
  maxQueue: config.maxQueue,
  workers,
  sessionTuning: tuning,
});
const server = await startServer({ config, models, log });
const stop = async () => {
  await server.shutdown();
  await Promise.allSettled([...(await models).values()].map((m) => m.close()));
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
await server.ready;
