/** `npm run start:bot`: the bot alone (the inference server runs separately). Also a shard's entry. */
import { loadConfig } from './config.js';
import { createBot } from './create-bot.js';
import { GrpcInferenceClient } from './inference/grpc-client.js';
import { createJsonLogger } from './logger.js';
import { JobStore } from './store/job-store.js';

const config = loadConfig();
const logger = createJsonLogger(config.logLevel);
const inference = new GrpcInferenceClient({
  ...config.inference,
  addresses: [...config.inference.addresses],
});
const store = new JobStore(config.store.path);
const bot = createBot({ config, inference, store, logger });

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info('stopping', { signal });
  await bot.stop().catch((err) => logger.error('error while stopping', { err }));
  inference.close();
  store.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { err }));

try {
  await bot.start();
} catch (err) {
  logger.error('could not start the bot', { err });
  process.exit(1);
}
