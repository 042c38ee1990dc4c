/**
 * `npm start`: the whole system on one machine.
 *
 * 1. Validates the configuration (inference server and bot) and checks the model packages.
 * 2. Starts the inference server (inference/main.ts) as a child process and waits for its health
 *    check to say SERVING; with `--no-inference` it checks the servers in INFERENCE_ADDRESS instead.
 * 3. With DISCORD_TOKEN set: starts the bot (bot/main.ts, or bot/shard.ts when SHARD_COUNT > 1).
 *    Without: starts the local Discord-compatible server (local-discord/) in this process, registers
 *    the bot's commands there (bot/deploy-commands.ts), starts the bot against it and prints the
 *    address of its web page.
 * Any part that dies takes the others down; Ctrl+C stops everything.
 *
 *   npm start [-- --no-inference] [--port 3999] [--timeout 300]
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseConfig } from '../bot/config.js';
import {
  ConfigError,
  loadClientConfig,
  loadServerConfig,
  REPO_ROOT,
  readEnvironment,
} from '../inference/config.js';
import { LocalDiscordDriver } from '../local-discord/driver.js';
import { type Child, type Env, runChild, startChild, stopChildren } from './start/children.js';
import {
  checkInferenceServers,
  checkModelPackages,
  checkPortFree,
  localAddressOf,
  StartError,
  waitForServing,
} from './start/preflight.js';

const STOP_GRACE_MS = 15_000;
const FORCE_AFTER_MS = 1000;
const EXTERNAL_INFERENCE_TIMEOUT_MS = 20_000;
const BOT_CONNECT_TIMEOUT_MS = 60_000;
const LOCAL_DB_PATH = '.bot-state/local-discord.sqlite';

const say = (line: string) => process.stdout.write(`[start] ${line}\n`);

const USAGE = `usage: npm start [-- options]
  --no-inference   do not start an inference server; use the ones in INFERENCE_ADDRESS
  --port <n>       port of the local Discord page when DISCORD_TOKEN is not set (default 3999)
  --timeout <s>    seconds to wait for the inference server to load its models (default 300)
`;

function parseFlags() {
  try {
    return parseArgs({
      options: {
        'no-inference': { type: 'boolean', default: false },
        port: { type: 'string', default: '3999' },
        timeout: { type: 'string', default: '300' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`[start] error: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const flags = parseFlags();
if (flags.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const children: Child[] = [];
let localDiscord: LocalDiscordDriver | undefined;
let stopping = false;
let ready = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    // The bot first, so it can tell users their jobs were cancelled while the server still answers.
    const bots = children.filter((c) => c.name !== 'inference');
    await stopChildren(bots, STOP_GRACE_MS);
    await stopChildren(children, STOP_GRACE_MS);
    await localDiscord?.stop().catch(() => undefined);
  }
  process.exit(code);
}

/**
 * Ctrl+C stops everything gracefully; a second Ctrl+C (after FORCE_AFTER_MS) exits at once. npm and tsx
 * relay the first signal too, so copies arriving right after it are ignored.
 */
let firstSignalAt = 0;
function onSignal(): void {
  if (!stopping) {
    firstSignalAt = Date.now();
    say('stopping (press Ctrl+C again to exit at once)');
    void stopAll(0);
  } else if (Date.now() - firstSignalAt > FORCE_AFTER_MS) {
    for (const c of children) c.process.kill('SIGKILL');
    process.exit(130);
  }
}

function fail(message: string): Promise<never> {
  process.stderr.write(`\n[start] error: ${message}\n`);
  return stopAll(1);
}

/** A child that ends while the system runs is a failure of the whole. */
function watch(child: Child): Child {
  children.push(child);
  void child.exited.then((result) => {
    if (stopping) return;
    const when = ready ? 'unexpectedly' : 'during start-up; the reason is in its lines above';
    void fail(`${child.name} exited (${result}) ${when}. Stopping everything.`);
  });
  return child;
}

function positiveInt(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new StartError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

/** Starts our own inference server and returns the address clients use. */
async function startInference(env: Env, timeoutMs: number): Promise<string> {
  const server = loadServerConfig(env);
  const packages = checkModelPackages(server.modelsDir);
  const address = localAddressOf(server.listen);
  await checkPortFree(
    address,
    'cannot start the inference server',
    'Is another `npm start` or `npm run start:inference` running? Stop it, set INFERENCE_LISTEN to a free port, or use `npm start -- --no-inference` to use the running server.',
  );
  say(
    `starting the inference server on ${server.listen} with ${packages.join(', ')} (${server.executionProvider})`,
  );
  const child = watch(startChild('inference', 'inference/main.ts', [], env, REPO_ROOT));
  const client = loadClientConfig(env);
  await waitForServing(
    { address, token: server.token, tls: server.tls ? (client.tls ?? {}) : undefined },
    {
      timeoutMs,
      exited: child.exited,
      onStatus: (s) => {
        if (s === 'NOT_SERVING') say('inference server: loading and warming the models');
        else if (!s.startsWith('unreachable')) say(`inference server: ${s}`); // before it listens
      },
    },
  );
  say(`inference server is SERVING at ${address}`);
  return address;
}

/** `--no-inference`: the servers in INFERENCE_ADDRESS must answer instead. */
async function checkExternalInference(env: Env): Promise<void> {
  const { addresses, token, tls, tlsCaPath } = parseConfig({
    ...env,
    DISCORD_TOKEN: env.DISCORD_TOKEN || 'placeholder',
  }).inference;
  await checkInferenceServers(
    { addresses, token, tls: tls ? { caPath: tlsCaPath } : undefined },
    EXTERNAL_INFERENCE_TIMEOUT_MS,
    say,
  );
}

async function startWithDiscord(env: Env): Promise<void> {
  const config = parseConfig(env);
  const entry = config.discord.shardCount > 1 ? 'bot/shard.ts' : 'bot/main.ts';
  say(`starting the bot for Discord (${entry}, inference at ${config.inference.addresses.join(', ')})`);
  watch(startChild('bot', entry, [], env, REPO_ROOT));
  say('the bot logs "bot ready" once it is connected to Discord. Stop everything with Ctrl+C.');
}

async function startLocal(env: Env, port: number): Promise<void> {
  await checkPortFree(
    `127.0.0.1:${port}`,
    'cannot start the local Discord',
    'Stop whatever uses it or pick another port: `npm start -- --port 4000`.',
  );
  localDiscord = await LocalDiscordDriver.start({
    port,
    log: (line) => process.stderr.write(`[local-discord] ${line}\n`),
  });
  const driver = localDiscord;
  // Jobs and buttons refer to message ids of this run's local Discord: start from an empty store.
  rmSync(`${REPO_ROOT}${LOCAL_DB_PATH}`, { force: true });
  rmSync(`${REPO_ROOT}${LOCAL_DB_PATH}-wal`, { force: true });
  rmSync(`${REPO_ROOT}${LOCAL_DB_PATH}-shm`, { force: true });
  const host = new URL(driver.baseUrl).host;
  const allowed = env.ALLOWED_ATTACHMENT_HOSTS || 'cdn.discordapp.com,media.discordapp.net';
  const botEnv: Env = {
    ...env,
    DISCORD_TOKEN: driver.token,
    DISCORD_API_URL: driver.restUrl,
    DISCORD_APPLICATION_ID: driver.applicationId,
    ALLOWED_ATTACHMENT_HOSTS: `${allowed},${host}`,
    BOT_DB_PATH: LOCAL_DB_PATH,
    SHARD_COUNT: '1',
  };
  parseConfig(botEnv);
  say('registering the bot commands with the local Discord');
  await runChild('deploy-commands', 'bot/deploy-commands.ts', [], botEnv, REPO_ROOT);

  const connected = new Promise<void>((resolve, reject) => {
    driver.events.on('gateway', (info) => {
      if (info.event === 'identify') resolve();
      if (info.event === 'auth-failed')
        reject(new StartError(`the bot's token was refused: ${info.detail ?? ''}`));
    });
    setTimeout(
      () => reject(new StartError(`the bot did not connect within ${BOT_CONNECT_TIMEOUT_MS / 1000} s`)),
      BOT_CONNECT_TIMEOUT_MS,
    ).unref();
  });
  say('starting the bot against the local Discord');
  watch(startChild('bot', 'bot/main.ts', [], botEnv, REPO_ROOT));
  await connected;
  const users = Object.values(driver.users)
    .map((u) => u.username)
    .join(', ');
  process.stdout.write(`
  Ready. No DISCORD_TOKEN is set, so the bot runs against a local Discord-compatible server.

    Open  ${driver.baseUrl}/  in your browser.

  Act as one of the users (${users}) in the guild "${driver.guild.name}": try
  /imagine two red circles, then press Re-roll, or attach an image and run /caption.
  Set DISCORD_TOKEN (see README) to run the bot in real Discord. Stop with Ctrl+C.

`);
}

async function main(): Promise<void> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const env: Env = readEnvironment();
  const port = positiveInt('port', flags.port);
  const timeoutMs = positiveInt('timeout', flags.timeout) * 1000;
  const useDiscord = Boolean(env.DISCORD_TOKEN?.trim());

  // Validate every part's configuration before starting anything (loading models takes a while).
  loadServerConfig(env);
  parseConfig(useDiscord ? env : { ...env, DISCORD_TOKEN: 'placeholder' });

  if (flags['no-inference']) {
    await checkExternalInference(env);
  } else {
    const address = await startInference(env, timeoutMs);
    env.INFERENCE_ADDRESS = address;
  }
  if (useDiscord) await startWithDiscord(env);
  else await startLocal(env, port);
  ready = true;
}

try {
  await main();
} catch (err) {
  if (err instanceof StartError || err instanceof ConfigError) await fail(err.message);
  else if (err instanceof Error && err.message.startsWith('invalid bot configuration'))
    await fail(err.message);
  else await fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
}
