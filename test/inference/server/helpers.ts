/** Starts a server on port 0 with given runtimes and returns a connected client. */

import { createInferenceClient, type InferenceClient } from '../../../inference/client/client.js';
import { loadServerConfig, type ServerConfig } from '../../../inference/config.js';
import type { ModelRuntime } from '../../../inference/runtime/api.js';
import { createLogger, type LogFields } from '../../../inference/server/logger.js';
import { type RunningServer, startServer } from '../../../inference/server/server.js';

export interface TestServer {
  server: RunningServer;
  client: InferenceClient;
  config: Readonly<ServerConfig>;
  logs: LogFields[];
  stop(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}): Readonly<ServerConfig> {
  return loadServerConfig({
    INFERENCE_LISTEN: '127.0.0.1:0',
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: '2000',
    ...env,
  });
}

export async function startTestServer(
  models: Map<string, ModelRuntime> | Promise<Map<string, ModelRuntime>>,
  env: Record<string, string> = {},
  clientToken?: string,
): Promise<TestServer> {
  const config = testConfig(env);
  const logs: LogFields[] = [];
  const log = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as LogFields) });
  const server = await startServer({ config, models, log });
  const client = createInferenceClient({
    address: `127.0.0.1:${server.port}`,
    token: clientToken ?? config.token,
  });
  return {
    server,
    client,
    config,
    logs,
    stop: async () => {
      client.close();
      await server.shutdown();
    },
  };
}

/** The gRPC status code a promise rejects with (or 'resolved'). */
export async function codeOf(p: Promise<unknown>): Promise<number | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return (err as { code: number }).code;
  }
}

/** Drains a stream into an array (rejects with the call's error). */
export async function drain<T>(events: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const e of events) all.push(e);
  return all;
}
