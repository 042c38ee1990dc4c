/**
 * Prometheus metrics, on a registry per server (tests run several servers in one process).
 * Throughput is exported as counters (tokens, images) so dashboards use rate(); per-job rates go in
 * histograms. Queue depth is read from the runtimes at scrape time.
 */
import { createServer, type Server } from 'node:http';
import client from 'prom-client';
import type { ModelMap } from './models.js';

export interface Metrics {
  registry: client.Registry;
  rpcDuration: client.Histogram<'rpc' | 'code'>;
  rpcErrors: client.Counter<'rpc' | 'code'>;
  queueWait: client.Histogram<'rpc'>;
  inFlight: client.Gauge<'rpc'>;
  tokens: client.Counter<'model' | 'kind'>;
  images: client.Counter<'model'>;
  tokensPerSecond: client.Histogram<'model'>;
}

export function createMetrics(getModels: () => ModelMap | undefined): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'ddt_inference_' });
  const registers = [registry];
  new client.Gauge({
    name: 'ddt_queue_depth',
    help: 'Jobs waiting in the runtime queue, per model',
    labelNames: ['model', 'state'],
    registers,
    collect() {
      this.reset();
      for (const [name, runtime] of getModels() ?? []) {
        const s = runtime.stats();
        this.set({ model: name, state: 'queued' }, s.queued);
        this.set({ model: name, state: 'running' }, s.running);
      }
    },
  });
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new client.Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new client.Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
    new client.Histogram<L>({ name, help, labelNames, buckets, registers });
  return {
    registry,
    rpcDuration: histogram(
      'ddt_rpc_duration_seconds',
      'Latency per RPC, from arrival to final status',
      ['rpc', 'code'],
      [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    ),
    rpcErrors: counter('ddt_rpc_errors_total', 'RPCs that ended with a non-OK status, by code', [
      'rpc',
      'code',
    ]),
    queueWait: histogram(
      'ddt_queue_wait_seconds',
      'Time from arrival until the runtime started the job (first progress event)',
      ['rpc'],
      [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    ),
    inFlight: gauge('ddt_in_flight_requests', 'RPCs being served', ['rpc']),
    tokens: counter(
      'ddt_tokens_generated_total',
      'Tokens produced: kind=image (DDT codes) or text (streamed deltas)',
      ['model', 'kind'],
    ),
    images: counter('ddt_images_generated_total', 'Images returned', ['model']),
    tokensPerSecond: histogram(
      'ddt_job_tokens_per_second',
      'Tokens per second of running time, per job',
      ['model'],
      [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
    ),
  };
}

function splitHostPort(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

/** Serves GET /metrics on `listen` (host:port; port 0 picks one). Resolves once listening. */
export async function startMetricsServer(
  metrics: Metrics,
  listen: string,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found; try /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  const { host, port } = splitHostPort(listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port };
}
