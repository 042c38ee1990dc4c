/**
 * Starts the gRPC server: ddt.v1.Inference, grpc.health.v1 (NOT_SERVING until the models are loaded)
 * and server reflection, plus the optional Prometheus endpoint. `models` may be a promise so the
 * server can answer health probes (NOT_SERVING) and refuse work (UNAVAILABLE) while models load.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { ServerConfig } from '../config.js';
import { LOADER_OPTIONS, loadServiceDefinition, PROTO_FILE, SERVICE_NAME } from '../protocol/load.js';
import type { ServerDeps } from './call-context.js';
import { InputError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, startMetricsServer } from './metrics.js';
import type { ModelMap } from './models.js';
import { createInferenceService } from './service.js';

const MiB = 1024 * 1024;
/** Results carry PNG frames of reveals; well above any realistic response. */
export const MAX_SEND_BYTES = 256 * MiB;

export interface StartServerOptions {
  config: Readonly<ServerConfig>;
  models: ModelMap | Promise<ModelMap>;
  log?: Logger;
}

export interface RunningServer {
  /** The bound gRPC port (useful with a `:0` listen address). */
  port: number;
  metricsPort?: number;
  /** Resolves once the models are loaded and health says SERVING; rejects if loading failed. */
  ready: Promise<void>;
  /** Graceful: NOT_SERVING, finish in-flight calls for up to shutdownGraceMs, then cancel and force. */
  shutdown(): Promise<void>;
}

/** Receive limit: the largest request carries max(2, maxChatImages) images plus text. */
export function maxReceiveBytes(config: Readonly<ServerConfig>): number {
  return Math.max(2, config.limits.maxChatImages) * config.limits.maxImageBytes + MiB;
}

function createCredentials(config: Readonly<ServerConfig>): grpc.ServerCredentials {
  if (!config.tls) return grpc.ServerCredentials.createInsecure();
  const cert = readFileSync(config.tls.certPath);
  const key = readFileSync(config.tls.keyPath);
  return grpc.ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))),
  );
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config } = options;
  const log = options.log ?? createLogger({ level: config.logLevel });
  let models: ModelMap | undefined;
  const metrics = createMetrics(() => models);
  const deps: ServerDeps = { config, log, metrics, models: () => models, inFlight: new Set() };

  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxReceiveBytes(config),
    'grpc.max_send_message_length': MAX_SEND_BYTES,
  });
  server.addService(loadServiceDefinition(), createInferenceService(deps));
  const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
  health.addToServer(server);
  // Reflection describes both services a client may call, so grpcurl can list and call health too.
  new ReflectionService(protoLoader.loadSync([PROTO_FILE, healthProtoPath], LOADER_OPTIONS)).addToServer(
    server,
  );

  const port = await bind(server, config.listen, createCredentials(config));
  const metricsServer = config.metricsListen
    ? await startMetricsServer(metrics, config.metricsListen)
    : undefined;
  log.info('listening', {
    address: config.listen,
    port,
    tls: Boolean(config.tls),
    auth: Boolean(config.token),
    metrics_port: metricsServer?.port,
  });

  let stopping = false;
  const setHealth = (status: 'SERVING' | 'NOT_SERVING') => {
    health.setStatus('', status);
    health.setStatus(SERVICE_NAME, status);
  };
  const ready = Promise.resolve(options.models).then((loaded) => {
    models = loaded;
    if (stopping) return;
    setHealth('SERVING');
    log.info('serving', { models: [...loaded.keys()] });
  });
  ready.catch(() => {}); // the caller owns the failure; avoid an unhandled rejection here

  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    setHealth('NOT_SERVING');
    log.info('shutting down', { in_flight: deps.inFlight.size, grace_ms: config.shutdownGraceMs });
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), config.shutdownGraceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!drained) {
      log.warn('grace period over; cancelling in-flight calls', { in_flight: deps.inFlight.size });
      for (const c of deps.inFlight) c.abort(new InputError('unavailable', 'the server is shutting down'));
      // Give the handlers a moment to send UNAVAILABLE before the transport goes.
      await new Promise((r) => setTimeout(r, 200));
      server.forceShutdown();
    }
    await new Promise<void>((resolve) =>
      metricsServer ? metricsServer.server.close(() => resolve()) : resolve(),
    );
    log.info('stopped');
  };

  return { port, metricsPort: metricsServer?.port, ready, shutdown };
}
