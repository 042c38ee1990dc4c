/**
 * Entry point of the inference server (`npm run start:inference`): config -> listen (NOT_SERVING) ->
 * load and warm the model packages -> SERVING; SIGINT/SIGTERM shut down gracefully. A bad model
 * package stops start-up with its file named and a non-zero exit status.
 */
import { ConfigError, loadServerConfig, type ServerConfig } from './config.js';
import type { ModelRuntime } from './runtime/api.js';
import { createLogger, type Logger } from './server/logger.js';
import { loadServerModels } from './server/models.js';
import { type RunningServer, startServer } from './server/server.js';

/** Prints to stderr as plain text too: a person starting the server reads this, not the JSON log. */
function fail(log: Logger | undefined, message: string, error?: unknown): never {
  log?.error(message, error ? { error } : undefined);
  process.stderr.write(`error: ${message}${error instanceof Error ? `: ${error.message}` : ''}\n`);
  process.exit(1);
}

function handleSignals(
  server: RunningServer,
  models: () => Promise<Map<string, ModelRuntime> | undefined>,
  log: Logger,
) {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn('second signal; exiting now', { signal });
      process.exit(130);
    }
    stopping = true;
    log.info('signal received', { signal });
    await server.shutdown();
    const loaded = await models();
    await Promise.allSettled([...(loaded?.values() ?? [])].map((m) => m.close()));
    process.exit(0);
  };
  process.on('SIGINT', (s) => void stop(s));
  process.on('SIGTERM', (s) => void stop(s));
}

async function main(): Promise<void> {
  let config: Readonly<ServerConfig>;
  try {
    config = loadServerConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(undefined, err.message);
    throw err;
  }
  const log = createLogger({ level: config.logLevel });
  log.info('loading models', {
    models_dir: config.modelsDir,
    execution_provider: config.executionProvider,
    runtime_thread: config.runtimeThread,
  });
  const loading = loadServerModels(
    config,
    {
      executionProvider: config.executionProvider,
      maxQueue: config.maxQueue,
      workers: config.workers,
      sessionTuning: {
        ...(config.intraOpThreads ? { intraOpThreads: config.intraOpThreads } : {}),
        ...(config.workerNiceness !== undefined ? { niceness: config.workerNiceness } : {}),
      },
    },
    // as a crash of the runtime in process would: exit, for the supervisor to restart a whole server
    (err) => fail(log, 'the model runtime thread stopped', err),
  );
  loading.catch(() => {}); // reported below, after the server is up
  const server = await startServer({ config, models: loading, log }).catch((err) =>
    fail(log, `cannot listen on ${config.listen}`, err),
  );
  handleSignals(server, () => loading.catch(() => undefined), log);
  try {
    await server.ready;
  } catch (err) {
    await server.shutdown();
    const name = (err as Error).name;
    fail(
      log,
      name === 'ModelPackageError'
        ? `invalid model package in ${config.modelsDir}`
        : `cannot load models from ${config.modelsDir}`,
      err,
    );
  }
}

await main();
