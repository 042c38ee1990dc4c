/**
 * Health probe for containers: exits 0 when the inference server answers SERVING for
 * `ddt.v1.Inference`, 1 otherwise (Docker HEALTHCHECK, compose `depends_on: service_healthy`).
 *
 *   node --import tsx scripts/healthcheck.ts [host:port]   # default: where INFERENCE_LISTEN listens
 */
import { loadClientConfig, loadServerConfig } from '../inference/config.js';
import { localAddressOf, StartError, waitForServing } from './start/preflight.js';

const server = loadServerConfig();
const client = loadClientConfig();
const address = process.argv[2] ?? localAddressOf(server.listen);
try {
  // One quick attempt: Docker retries on its own schedule.
  await waitForServing(
    { address, token: server.token, tls: server.tls ? (client.tls ?? {}) : undefined },
    { timeoutMs: 0 },
  );
  process.exit(0);
} catch (err) {
  process.stderr.write(`unhealthy: ${err instanceof StartError ? err.message : String(err)}\n`);
  process.exit(1);
}
