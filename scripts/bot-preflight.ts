/**
 * Run before the bot in containers: validates the bot's configuration (a missing DISCORD_TOKEN fails
 * here with a clear message) and waits until at least one server in INFERENCE_ADDRESS serves.
 *
 *   node --import tsx scripts/bot-preflight.ts [--wait <seconds>] && exec node --import tsx bot/main.ts
 */
import { parseArgs } from 'node:util';
import { parseConfig } from '../bot/config.js';
import { readEnvironment } from '../inference/config.js';
import { checkInferenceServers, StartError } from './start/preflight.js';

const { values } = parseArgs({ options: { wait: { type: 'string', default: '120' } } });
const say = (line: string) => process.stderr.write(`[preflight] ${line}\n`);

try {
  const waitS = Number(values.wait);
  if (!Number.isFinite(waitS) || waitS < 0)
    throw new StartError(`--wait must be seconds, got "${values.wait}"`);
  const { addresses, token, tls, tlsCaPath } = parseConfig(readEnvironment()).inference;
  say(`waiting up to ${waitS} s for the inference servers ${addresses.join(', ')}`);
  await checkInferenceServers(
    { addresses, token, tls: tls ? { caPath: tlsCaPath } : undefined },
    waitS * 1000,
    say,
  );
} catch (err) {
  say(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
