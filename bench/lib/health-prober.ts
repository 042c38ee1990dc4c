/**
 * A health prober in a process of its own, as a load balancer or orchestrator probes a server: started
 * with the server's address, it connects, then waits for one line on stdin, `<durationMs> <intervalMs>`,
 * probes for that long (one check, then a pause of intervalMs) and writes the latencies (ms) as one JSON
 * array on stdout. Keeping it off the load generator's event loop keeps that loop's stalls (16 streams
 * with previews to decode) out of the server's figure.
 *
 *   node --import tsx bench/lib/health-prober.ts 127.0.0.1:50051
 */
import { createInterface } from 'node:readline';
import { createInferenceClient } from '../../inference/client/client.js';
import { probeHealth } from './load.js';
import { now } from './stats.js';

const client = createInferenceClient({ address: process.argv[2]! });
await client.checkHealth(); // connected before the start signal
process.stdout.write('ready\n');
const line = await new Promise<string>((resolve) =>
  createInterface({ input: process.stdin }).once('line', resolve),
);
const [durationMs, intervalMs] = line.split(' ').map(Number) as [number, number];
const until = now() + durationMs;
const latencies = await probeHealth(
  () => client.checkHealth(),
  () => now() >= until,
  intervalMs,
);
process.stdout.write(`${JSON.stringify(latencies)}\n`);
client.close();
process.exit(0);
